package dev.gpt4j.training;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.Corpora;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.TextToSqlExample;
import dev.gpt4j.sql.SqlAnswer;
import dev.gpt4j.sql.TextToSql;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** End-to-end runs of the trainer on tiny models: loss falls, resume is exact (also after kill -9), NaN stops. */
class TrainerTest {
    static final Path DATA = Path.of(System.getProperty("gpt4j.data", "../../shared/data")).toAbsolutePath().normalize();
    static final Path VERDICT = DATA.resolve("text/the-verdict.txt");

    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    /** A small pretraining run on the-verdict: V 512, T 32, C 48, 2 layers. */
    static Map<String, Object> pretrain(Path out, int steps) {
        Map<String, Object> m = new HashMap<>();
        m.put("mode", "pretrain");
        m.put("out", out.toString());
        m.put("corpus", VERDICT.toString());
        m.put("vocab_size", 512);
        m.put("preset", "tiny");
        m.put("context_length", 32);
        m.put("embed_dim", 48);
        m.put("heads", 4);
        m.put("dropout", 0.1);
        m.put("steps", steps);
        m.put("batch_size", 4);
        m.put("accum_steps", 2);
        m.put("lr", 3e-3);
        m.put("min_lr", 3e-4);
        m.put("warmup_steps", 10);
        m.put("eval_every", 20);
        m.put("eval_batches", 2);
        m.put("checkpoint_every", 10);
        m.put("keep_last", 2);
        m.put("log_every", 5);
        return m;
    }

    static float[] weights(Path modelDir) {
        try (GptModel m = GptModel.load(modelDir)) {
            return m.params().values().toFloatVector();
        }
    }

    /** step, loss, val_loss, lr and grad norm of every metrics row (not the timing fields). */
    static List<String> curve(Path metrics) throws Exception {
        List<String> out = new ArrayList<>();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : Files.readAllLines(metrics)) {
            ObjectNode n = (ObjectNode) json.readTree(line);
            out.add(n.get("step") + " " + n.get("loss") + " " + n.get("val_loss") + " " + n.get("lr") + " " + n.get("grad_norm") + " "
                    + n.get("tokens"));
        }
        return out;
    }

    @Test
    void pretrainingLowersTheLossAndWritesItsFiles(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Trainer.Result r = new Trainer(TrainConfig.of(pretrain(out, 200)).with(Map.of("dropout", "0")), QUIET).run(false);
        assertEquals(200, r.steps());
        List<String> rows = curve(out.resolve("metrics.jsonl"));
        assertEquals(40, rows.size());
        double first = Double.parseDouble(rows.get(0).split(" ")[1]);
        assertTrue(r.lastLoss() < first - 1.5, "loss " + first + " -> " + r.lastLoss());
        assertTrue(Files.size(out.resolve("metrics.png")) > 1000);
        assertEquals(List.of("step-000190", "step-000200"), new Checkpoints(out.resolve("checkpoints")).list().stream()
                .map(p -> p.getFileName().toString()).toList(), "keeps the last 2");
        assertTrue(Files.isRegularFile(out.resolve("best/model.safetensors")));
        assertEquals("val_loss", r.metric());
        assertTrue(r.bestMetric() < 6.0, "validation loss " + r.bestMetric());
        assertEquals(TrainConfig.of(pretrain(out, 200)).with(Map.of("dropout", "0")), TrainConfig.of(TrainConfig.read(out.resolve("train-config.json"))));
        // the model folder is complete: weights, config and the tokenizer with the prompt's special tokens
        BpeTokenizer tok = BpeTokenizer.load(r.modelDir());
        assertTrue(tok.specialTokens().keySet().containsAll(PromptFormat.SPECIAL_TOKENS));
        assertArrayEquals(weights(out.resolve("checkpoints/step-000200")), weights(r.modelDir()));
        var again = assertThrows(IllegalArgumentException.class, () -> new Trainer(TrainConfig.of(pretrain(out, 200)), QUIET).run(false));
        assertTrue(again.getMessage().contains("--resume"), again.getMessage());
    }

    @Test
    void withoutValidationTheLastLineSaysSo(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, Object> cfg = pretrain(dir.resolve("out"), 6);
        cfg.put("eval_every", 0);
        new Trainer(TrainConfig.of(cfg), new PrintStream(log, true, StandardCharsets.UTF_8)).run(false);
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("no val_loss measured"), text);
        assertFalse(text.contains("Infinity"), text);
    }

    @Test
    void resumingGivesTheSameRunBitForBit(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), split = dir.resolve("split");
        new Trainer(TrainConfig.of(pretrain(whole, 40)), QUIET).run(false);
        Trainer.Result partial = new Trainer(TrainConfig.of(pretrain(split, 40)), QUIET).stopAfter(27).run(false);
        assertEquals(27, partial.steps());
        assertEquals("step-000020", new Checkpoints(split.resolve("checkpoints")).latest().orElseThrow().getFileName().toString());
        Trainer.Result resumed = new Trainer(TrainConfig.of(pretrain(split, 40)), QUIET).run(true);
        assertEquals(40, resumed.steps());
        assertArrayEquals(weights(whole.resolve("model")), weights(split.resolve("model")));
        assertEquals(curve(whole.resolve("metrics.jsonl")), curve(split.resolve("metrics.jsonl")));
    }

    /** A separate JVM trains; it is killed with SIGKILL mid-run; the run resumed here ends where an unbroken run ends. */
    @Test
    void survivesKillNine(@TempDir Path dir) throws Exception {
        Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
        Map<String, Object> cfg = pretrain(killed, 150);
        Process p = child(cfg, dir.resolve("child.log"), Map.of());
        Checkpoints ck = new Checkpoints(killed.resolve("checkpoints"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (ck.list().size() < 2 && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(p.isAlive(), "the child ended before it could be killed: " + Files.readString(dir.resolve("child.log")));
        p.destroyForcibly(); // SIGKILL on Unix
        p.waitFor();
        assertNotEquals(0, p.exitValue());
        long reached = Checkpoints.readState(ck.latest().orElseThrow()).step();
        assertTrue(reached < 150, "killed at step " + reached);
        new Trainer(TrainConfig.of(cfg), QUIET).run(true);
        Map<String, Object> w = new HashMap<>(cfg);
        w.put("out", whole.toString());
        new Trainer(TrainConfig.of(w), QUIET).run(false);
        assertArrayEquals(weights(whole.resolve("model")), weights(killed.resolve("model")));
        assertEquals(curve(whole.resolve("metrics.jsonl")), curve(killed.resolve("metrics.jsonl")));
    }

    /**
     * ND4J's own ops get as many threads as its pool can give at that moment, so a resumed run may get other
     * counts than the first: the weights must not depend on them. A child JVM limited to one OpenMP thread
     * ends with the weights this JVM (two threads) ends with.
     */
    @Test
    void sameWeightsWithOneOrTwoNativeThreads(@TempDir Path dir) throws Exception {
        Path one = dir.resolve("one"), two = dir.resolve("two");
        Map<String, Object> cfg = pretrain(one, 30);
        Process p = child(cfg, dir.resolve("child.log"), Map.of("OMP_NUM_THREADS", "1"));
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child did not finish");
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("child.log")));
        Map<String, Object> w = new HashMap<>(cfg);
        w.put("out", two.toString());
        new Trainer(TrainConfig.of(w), QUIET).run(false);
        assertArrayEquals(weights(two.resolve("model")), weights(one.resolve("model")));
    }

    /** A JVM training with this config ({@link TrainerChild}). */
    static Process child(Map<String, Object> cfg, Path log, Map<String, String> env) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dgpt4j.data=" + DATA, TrainerChild.class.getName()));
        for (var e : cfg.entrySet()) cmd.add(e.getKey() + "=" + e.getValue());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    @Test
    void divergenceStopsWithTheLastGoodCheckpoint(@TempDir Path dir) {
        Path out = dir.resolve("nan");
        Map<String, Object> m = pretrain(out, 200);
        m.put("lr", 1e30);
        m.put("min_lr", 0);
        m.put("grad_clip", 0);
        m.put("warmup_steps", 0);
        m.put("checkpoint_every", 1);
        var e = assertThrows(TrainingDivergedException.class, () -> new Trainer(TrainConfig.of(m), QUIET).run(false));
        assertTrue(e.getMessage().contains("step " + e.step()), e.getMessage());
        Path last = new Checkpoints(out.resolve("checkpoints")).latest().orElseThrow();
        assertTrue(e.getMessage().contains(last.toString()), e.getMessage());
        assertEquals(e.step() - 1, Checkpoints.readState(last).step());
        for (float v : weights(last)) assertTrue(Float.isFinite(v));
    }

    @Test
    void anUnwritableOutputFolderFailsBeforeTraining(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Map<String, Object> m = pretrain(file.resolve("run"), 10);
        var e = assertThrows(IllegalArgumentException.class, () -> new Trainer(TrainConfig.of(m), QUIET).run(false));
        assertTrue(e.getMessage().contains(file.resolve("run").toString()), e.getMessage());
    }

    /**
     * Fine-tuning a few hundred WikiSQL examples: the loss on the SQL falls, the model folder answers through
     * TextToSql, and on examples it has seen many times it writes their SQL exactly.
     */
    @Test
    void fineTuningLearnsTheSqlOfItsExamples(@TempDir Path dir) throws Exception {
        List<TextToSqlExample> pairs = Corpora.fineTuning(DATA).stream().filter(e -> e.source().equals("wikisql")).limit(3000).toList();
        List<String> texts = new ArrayList<>();
        for (TextToSqlExample e : pairs) texts.add(e.schema().compact() + " " + e.question() + " " + e.sql());
        BpeTokenizer tok = new BpeTrainer(1200, PromptFormat.SPECIAL_TOKENS).train(texts);
        Path init = dir.resolve("init");
        try (GptModel m = GptModel.create(new GptConfig(tok.vocabSize(), 160, 64, 2, 4, 0.0, 1e-5, true, true), 3)) {
            m.save(init);
        }
        tok.save(init);
        Path out = dir.resolve("ft");
        Map<String, Object> cfg = new HashMap<>();
        cfg.put("mode", "finetune");
        cfg.put("init", init.toString());
        cfg.put("out", out.toString());
        cfg.put("datasets", "wikisql");
        cfg.put("max_examples", 24);
        cfg.put("steps", 150);
        cfg.put("batch_size", 8);
        cfg.put("lr", 3e-3);
        cfg.put("min_lr", 1e-3);
        cfg.put("warmup_steps", 10);
        cfg.put("eval_every", 50);
        cfg.put("eval_batches", 2);
        cfg.put("accuracy_every", 150);
        cfg.put("accuracy_sample", 8);
        cfg.put("checkpoint_every", 50);
        cfg.put("log_every", 10);
        Trainer.Result r = new Trainer(TrainConfig.of(cfg), QUIET).run(false);
        List<String> rows = curve(out.resolve("metrics.jsonl"));
        double first = Double.parseDouble(rows.get(0).split(" ")[1]);
        assertTrue(r.lastLoss() < first / 5, "loss " + first + " -> " + r.lastLoss());
        assertEquals("accuracy", r.metric());
        String lastRow = Files.readAllLines(out.resolve("metrics.jsonl")).get(rows.size() - 1);
        assertTrue(lastRow.contains("\"accuracy\":") && lastRow.contains("\"wikisql_accuracy\":"), lastRow);
        // the first training examples (the data take the first 24 outside the validation tables)
        List<TextToSqlExample> seen = pairs.stream().filter(e -> !Corpora.isValidation(e.source(), e.group(), 5)).limit(24).toList();
        int exact = 0;
        try (TextToSql t2s = TextToSql.load(r.modelDir())) {
            for (TextToSqlExample e : seen.subList(0, 8)) {
                SqlAnswer a = t2s.ask(e.schema(), e.question());
                if (a.sql().equals(dev.gpt4j.data.SqlText.normalizeSpace(e.sql()))) exact++;
            }
        }
        assertTrue(exact >= 6, exact + " of 8 training questions answered with their exact SQL");
    }
}
