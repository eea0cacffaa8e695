package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpiderTest {
    @TempDir
    Path tmp;

    /** A Spider folder with one present database (concert) and one whose file is missing (gone). */
    private Path fixture(List<String[]> devExamples) throws Exception {
        Path dir = tmp.resolve("spider");
        TestData.concertDb(dir.resolve("database/concert/concert.sqlite"));
        ArrayNode tables = Json.MAPPER.createArrayNode();
        for (String id : List.of("concert", "gone")) {
            ObjectNode db = tables.addObject().put("db_id", id);
            db.putArray("table_names_original").add("stadium").add("singer");
            ArrayNode cols = db.putArray("column_names_original");
            ArrayNode types = db.putArray("column_types");
            cols.addArray().add(-1).add("*");
            types.add("text");
            for (String[] c : new String[][] {{"0", "stadium_id", "number"}, {"0", "name", "text"}, {"1", "singer_id", "number"},
                    {"1", "name", "text"}, {"1", "stadium_id", "number"}}) {
                cols.addArray().add(Integer.parseInt(c[0])).add(c[1]);
                types.add(c[2]);
            }
            db.putArray("primary_keys").add(1).add(3);
            db.putArray("foreign_keys").addArray().add(5).add(1);
        }
        Json.MAPPER.writeValue(dir.resolve("tables.json").toFile(), tables);
        ArrayNode dev = Json.MAPPER.createArrayNode();
        for (String[] e : devExamples) {
            dev.addObject().put("db_id", e[0]).put("question", e[1]).put("query", e[2]);
        }
        Json.MAPPER.writeValue(dir.resolve("dev.json").toFile(), dev);
        return dir;
    }

    @Test
    void readsSchemasWithKeys() throws Exception {
        Spider s = Spider.open(fixture(List.<String[]>of()));
        Schema c = s.schema("concert");
        assertEquals("stadium(stadium_id number pk, name text)\nsinger(singer_id number pk, name text, stadium_id number -> stadium.stadium_id)",
                c.compact());
        assertTrue(s.hasDatabase("concert"));
        assertFalse(s.hasDatabase("gone"));
    }

    @Test
    void goldScoresFullMarksAndBrokenPredictionsScoreZero() throws Exception {
        List<String[]> dev = List.of(
                new String[] {"concert", "Names of French singers?", "SELECT name FROM singer WHERE country = 'France'"},
                new String[] {"concert", "Names of French singers?", "SELECT name FROM singer WHERE country = 'France'"},
                new String[] {"concert", "French singers over 30?", "SELECT name FROM singer WHERE country = 'France' AND age > 30"},
                new String[] {"concert", "Singers by age, oldest first", "SELECT name FROM singer ORDER BY age DESC"},
                new String[] {"concert", "Largest stadium?", "SELECT name FROM stadium ORDER BY capacity DESC LIMIT 1"},
                new String[] {"gone", "How many?", "SELECT count(*) FROM singer"});
        Path dir = fixture(dev);
        Spider s = Spider.open(dir);
        List<SpiderExample> ex = s.examples("dev");
        List<String> gold = ex.stream().map(SpiderExample::query).toList();
        SpiderScorer scorer = new SpiderScorer(s);

        ScoreReport r = scorer.score("dev", ex, gold);
        assertEquals(5, r.scored());
        assertEquals(1.0, r.accuracy());
        assertEquals(1, r.skipped().size());
        assertTrue(r.skipped().get(0).contains("dev#5 (gone): database file missing"), r.skipped().get(0));
        assertTrue(r.summary().endsWith("execution accuracy: 100.00% (5/5)"), r.summary());

        List<String> broken = new ArrayList<>(List.of(
                "SELECT country FROM singer WHERE country = 'France'",          // wrong column
                "SELECT name FROM singer WHERE country = 'Netherlands'",        // wrong value
                "SELECT name FROM singer WHERE country = 'France'",             // dropped condition
                "SELECT name FROM singer ORDER BY age ASC",                     // different ORDER BY
                "DROP TABLE stadium",                                           // refused
                "SELECT count(*) FROM singer"));
        ScoreReport b = scorer.score("dev", ex, broken);
        assertEquals(0, b.correct(), () -> b.items().toString());
        assertTrue(b.items().get(4).error().startsWith("refused: DROP"), b.items().get(4).error());
        assertEquals(Map.of("mismatch", 4, "refused", 1), b.failures());
    }

    @Test
    void writesAJsonReportWithEveryItem() throws Exception {
        Path dir = fixture(List.<String[]>of(new String[] {"concert", "q", "SELECT 1"}));
        Spider s = Spider.open(dir);
        ScoreReport r = new SpiderScorer(s).score("dev", s.examples("dev"), List.of("SELECT 2"));
        Path out = tmp.resolve("report.json");
        r.writeJson(out);
        var root = Json.MAPPER.readTree(out.toFile());
        assertEquals(0.0, root.get("accuracy").asDouble());
        assertEquals("SELECT 2", root.get("items").get(0).get("predicted").asText());
        assertEquals(1, root.get("items").size());
    }

    @Test
    void badFilesNameTheEntryAndField() throws Exception {
        Path dir = fixture(List.<String[]>of());
        Files.writeString(dir.resolve("dev.json"), "[{\"db_id\": \"concert\", \"question\": \"q\"}]");
        DataFileException e = assertThrows(DataFileException.class, () -> Spider.open(dir).examples("dev"));
        assertEquals(dir.resolve("dev.json") + ", entry 0: missing field \"query\"", e.getMessage());
        Files.writeString(dir.resolve("dev.json"), "[{\"db_id\": \"nowhere\", \"question\": \"q\", \"query\": \"SELECT 1\"}]");
        e = assertThrows(DataFileException.class, () -> Spider.open(dir).examples("dev"));
        assertEquals(dir.resolve("dev.json") + ", entry 0: field \"db_id\": database nowhere is not in tables.json", e.getMessage());
        Files.writeString(dir.resolve("dev.json"), "[{\"db_id\": \"concert\",\n \"question\": }]");
        e = assertThrows(DataFileException.class, () -> Spider.open(dir).examples("dev"));
        assertTrue(e.getMessage().startsWith(dir.resolve("dev.json") + ", line 2, column "), e.getMessage());
    }

    @Test
    void predictionsFileMustHaveOneLinePerQuestion() throws Exception {
        Path p = tmp.resolve("pred.sql");
        Files.writeString(p, "SELECT 1\nSELECT 2\tconcert\n");
        assertEquals(List.of("SELECT 1", "SELECT 2"), Predictions.read(p, List.of("concert", "concert")));
        DataFileException e = assertThrows(DataFileException.class, () -> Predictions.read(p, List.of("a", "b", "c")));
        assertEquals(p + ": has 2 lines but the split has 3 questions (one prediction per line, in the split's order)", e.getMessage());
    }

    /** The real dev set: Spider's published level counts, and gold against itself is 100% wherever the database exists. */
    @Test
    void realDevSetHardnessAndGoldAgainstGold() {
        Spider s = Spider.open(TestData.dir("spider").resolve("spider"));
        List<SpiderExample> dev = s.examples("dev");
        Map<Hardness, Integer> levels = new EnumMap<>(Hardness.class);
        dev.forEach(e -> levels.merge(e.hardness(), 1, Integer::sum));
        assertEquals(Map.of(Hardness.EASY, 248, Hardness.MEDIUM, 446, Hardness.HARD, 174, Hardness.EXTRA, 166), levels);

        List<String> preds = Predictions.read(s.dir().resolve("dev_gold.sql"), dev.stream().map(SpiderExample::dbId).toList());
        ScoreReport r = new SpiderScorer(s).score("dev", dev, preds);
        long present = dev.stream().filter(e -> s.hasDatabase(e.dbId())).count();
        assertEquals(present, r.scored());
        assertEquals(dev.size() - present, r.skipped().size());
        assertEquals(1.0, r.accuracy(), () -> r.wrong().toString());
    }
}
