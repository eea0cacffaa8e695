package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CorporaTest {
    @Test
    void trainingMaterialComesFromTrainingSplitsOnly() {
        Path data = TestData.dir("spider", "wikisql", "text/the-verdict.txt");
        List<TextToSqlExample> pairs = Corpora.fineTuning(data);
        assertEquals(56_325 + 8_659, pairs.size());
        Set<String> devDbs = new HashSet<>();
        Spider.open(data.resolve("spider")).examples("dev").forEach(e -> devDbs.add(e.dbId()));
        Set<String> devTables = WikiSql.open(data.resolve("wikisql")).tables("dev").keySet();
        for (TextToSqlExample p : pairs) {
            assertFalse(p.source().equals("spider") && devDbs.contains(p.group()), p.toString());
            assertFalse(p.source().equals("wikisql") && devTables.contains(p.group()), p.toString());
        }
        List<String> docs = Corpora.pretrainingDocuments(data);
        assertTrue(docs.get(0).startsWith("I HAD always thought Jack Gisburn"), docs.get(0).substring(0, 40));
        assertTrue(docs.size() > pairs.size());
    }

    @Test
    void noDrillsWithoutSpiderTrain(@org.junit.jupiter.api.io.TempDir Path empty) {
        assertTrue(Corpora.schemaDrills(empty).isEmpty());
    }

    @Test
    void validationSplitIsStableAndRoughlyTheAskedShare() {
        int val = 0;
        for (int i = 0; i < 10_000; i++) {
            boolean v = Corpora.isValidation("wikisql", "1-" + i, 5);
            assertEquals(v, Corpora.isValidation("wikisql", "1-" + i, 5));
            val += v ? 1 : 0;
        }
        assertTrue(val > 400 && val < 600, "validation share " + val + " of 10000 at 5%");
        int same = 0;
        for (int i = 0; i < 1_000; i++) {
            boolean spider = Corpora.isValidation("spider", "db_" + i, 10);
            assertEquals(spider, Corpora.isValidation(SchemaDrills.SOURCE, "db_" + i, 10), "db_" + i);
            same += spider == Corpora.isValidation("wikisql", "db_" + i, 10) ? 1 : 0;
        }
        assertTrue(same < 1_000, "sources other than drills have splits of their own");
    }
}
