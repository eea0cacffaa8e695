package dev.gpt4j.training;

import dev.gpt4j.data.Corpora;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.TextToSqlExample;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class FinetuneDataTest {

    /** Each example's SQL is unique ("SELECT a FROM t WHERE a = <i>"), so a batch row tells which example it is. */
    private static List<TextToSqlExample> examples(String source, int n, int offset) {
        Schema s = Schema.fromDdl("CREATE TABLE t (a INTEGER, b TEXT);");
        List<TextToSqlExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int id = offset + i;
            out.add(new TextToSqlExample(source, source + "-" + id, s, "which a is " + id + "?", "SELECT a FROM t WHERE a = " + id));
        }
        return out;
    }

    @Test
    void aRepeatedDatasetOccursThatManyTimesPerEpochAndItsValidationOnce() {
        List<TextToSqlExample> pairs = new ArrayList<>(examples("wikisql", 60, 0));
        pairs.addAll(examples("spider", 20, 1000));
        List<String> texts = new ArrayList<>();
        for (TextToSqlExample e : pairs) texts.add(e.schema().compact() + " " + e.question() + " " + e.sql());
        BpeTokenizer tok = new BpeTrainer(400, PromptFormat.SPECIAL_TOKENS).train(texts);
        PromptFormat format = new PromptFormat(tok);
        int valPercent = 20;
        Map<String, Integer> expected = new HashMap<>(); // how often each training example's SQL should occur
        int val = 0;
        for (TextToSqlExample e : pairs) {
            if (Corpora.isValidation(e.source(), e.group(), valPercent)) val++;
            else expected.put(e.sql(), e.source().equals("spider") ? 3 : 1);
        }
        assertTrue(val > 0 && expected.size() > 40, "the fixture has both parts: " + val + " / " + expected.size());

        FinetuneData once = new FinetuneData(pairs, format, valPercent, 0, 4, 64, 7);
        FinetuneData data = new FinetuneData(pairs, format, valPercent, 0, 4, 64, 7, Map.of("spider", 3));
        long spiderTrain = expected.values().stream().filter(k -> k == 3).count();
        assertEquals(once.batchesPerEpoch(), (expected.size() + 3) / 4);
        assertEquals((expected.size() + 2 * spiderTrain + 3) / 4, data.batchesPerEpoch());
        assertEquals(once.validationBatches(), data.validationBatches(), "validation examples are not repeated");
        assertEquals((val + 3) / 4, data.validationBatches());
        assertTrue(data.describe().contains("with repeats {spider=3}"), data.describe());
        assertFalse(once.describe().contains("repeats"), once.describe());
        long wikiTrain = expected.size() - spiderTrain;
        assertTrue(data.describe().contains(String.format("[spider %,d, wikisql %,d]", 3 * spiderTrain, wikiTrain)), data.describe());
        assertTrue(once.describe().contains(String.format("[spider %,d, wikisql %,d]", spiderTrain, wikiTrain)), once.describe());

        for (int epoch = 0; epoch < 2; epoch++) {
            Map<String, Integer> seen = new HashMap<>();
            for (int b = 0; b < data.batchesPerEpoch(); b++) {
                Batch batch = data.train((long) epoch * data.batchesPerEpoch() + b);
                for (int r = 0; r < batch.batchSize(); r++) {
                    String row = rowText(tok, batch, r);
                    if (row.isEmpty()) continue; // the padding of a short last batch
                    String sql = row.substring(row.indexOf("SELECT")).strip();
                    seen.merge(sql, 1, Integer::sum);
                }
            }
            assertEquals(expected, seen, "epoch " + epoch);
        }
    }

    /** The input row r of a batch, decoded, without its padding. */
    private static String rowText(BpeTokenizer tok, Batch b, int r) {
        int[] x = b.inputs(), y = b.targets();
        List<Integer> ids = new ArrayList<>();
        int last = -1;
        for (int t = 0; t < b.length(); t++) if (y[r * b.length() + t] != dev.gpt4j.core.GptModel.IGNORE) last = t;
        if (last < 0) return "";
        for (int t = 0; t <= last; t++) ids.add(x[r * b.length() + t]);
        ids.add(y[r * b.length() + last]);
        String s = tok.decode(ids.stream().mapToInt(Integer::intValue).toArray());
        int end = s.indexOf("<|endoftext|>");
        return end >= 0 ? s.substring(0, end) : s;
    }
}
