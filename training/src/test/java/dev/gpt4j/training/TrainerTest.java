package dev.gpt4j.training;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.core.AdamW;
import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.SafeTensors;
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

    /** A small pretraining run on the-verdict: V 512, T 32, C 48, 2 layers (the test skips without the data sets). */
    static Map<String, Object> pretrain(Path out, int steps) {
        TestData.dir("text/the-verdict.txt");
        return config(out, steps);
    }

    /** {@link #pretrain}'s settings, for a test that stops before reading the corpus. */
    static Map<String, Object> config(Path out, int steps) {
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

    /** Shared by the resume tests. */
    @TempDir
    static Path shared;
    private static Path whole40;

    /** {@link #pretrain} for 40 steps, keeping the last 5 checkpoints (so that step 20's stays to compare with). */
    static Map<String, Object> resumable(Path out) {
        Map<String, Object> m = pretrain(out, 40);
        m.put("keep_last", 5);
        return m;
    }

    /** The unbroken run of {@link #resumable} that the resume tests compare with, trained once. */
    static synchronized Path whole40() {
        if (whole40 == null) {
            Path out = shared.resolve("whole");
            new Trainer(TrainConfig.of(resumable(out)), QUIET).run(false);
            whole40 = out;
        }
        return whole40;
    }

    /** Resumes the run of {@code cfg}; returns what it printed. */
    static String resume(Map<String, Object> cfg) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        new Trainer(TrainConfig.of(cfg), new PrintStream(log, true, StandardCharsets.UTF_8)).progressBar(false).run(true);
        return log.toString(StandardCharsets.UTF_8);
    }

    /** The step of the first progress line ({@code step 25/40 | loss ...}) a run printed. */
    static int firstLoggedStep(String log) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^step (\\d+)/").matcher(log);
        assertTrue(m.find(), log);
        return Integer.parseInt(m.group(1));
    }

    /** The metrics lines (as written) of steps up to {@code step}. */
    static List<String> rowsUpTo(Path metrics, long step) throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) if (json.readTree(line).get("step").asLong() <= step) out.add(line);
        return out;
    }

    /**
     * Stopped after 27 steps (its last checkpoint is step 20's) and resumed, a run ends with the unbroken run's
     * weights and metrics. And it did resume, rather than train again from step 0 to the same result (batches and
     * dropout are functions of (seed, step), so it would): it says it resumed from step 20's checkpoint, its first
     * progress line is step 25's (one every 5), and the metrics rows of steps 1-20 are the first run's (their
     * tokens_per_s is a measured time: a second run writes other values).
     */
    @Test
    void resumingGivesTheSameRunBitForBit(@TempDir Path dir) throws Exception {
        Path whole = whole40(), split = dir.resolve("split");
        Trainer.Result partial = new Trainer(TrainConfig.of(resumable(split)), QUIET).stopAfter(27).run(false);
        assertEquals(27, partial.steps());
        Path from = split.resolve("checkpoints/step-000020");
        assertEquals(from, new Checkpoints(split.resolve("checkpoints")).latest().orElseThrow());
        List<String> firstRun = rowsUpTo(split.resolve("metrics.jsonl"), 20);
        assertEquals(4, firstRun.size());
        String log = resume(resumable(split));
        assertTrue(log.contains("resumed from " + from + " at step 20"), log);
        assertEquals(25, firstLoggedStep(log), "resumed at step 20, the first progress line is step 25's:\n" + log);
        assertEquals(firstRun, rowsUpTo(split.resolve("metrics.jsonl"), 20), "the rows before the checkpoint are the first run's");
        assertArrayEquals(weights(whole.resolve("model")), weights(split.resolve("model")));
        assertEquals(curve(whole.resolve("metrics.jsonl")), curve(split.resolve("metrics.jsonl")));
    }

    /**
     * The AdamW moments come from the checkpoint: halving the first and quadrupling the second moments in step 20's
     * optimizer.safetensors makes the resumed run end with other weights than the unbroken run.
     */
    @Test
    void resumingUsesTheCheckpointsAdamWMoments(@TempDir Path dir) throws Exception {
        Path whole = whole40(), run = dir.resolve("altered");
        assertEquals(20, new Trainer(TrainConfig.of(resumable(run)), QUIET).stopAfter(20).run(false).steps());
        Path ck = run.resolve("checkpoints/step-000020");
        try (GptModel m = GptModel.load(ck)) {
            AdamW opt = new AdamW(m.params(), 0.1);
            Checkpoints.restoreOptimizer(ck, opt);
            assertEquals(20, opt.stepCount());
            assertTrue(opt.secondMoment().sumNumber().doubleValue() > 0);
            Map<String, org.nd4j.linalg.api.ndarray.INDArray> t = new java.util.LinkedHashMap<>();
            t.put("m", opt.firstMoment().mul(0.5));
            t.put("v", opt.secondMoment().mul(4));
            SafeTensors.write(ck.resolve(Checkpoints.OPTIMIZER), t, Map.of("step", "20"), "F32");
        }
        String log = resume(resumable(run));
        assertTrue(log.contains("resumed from " + ck + " at step 20"), log);
        float[] a = weights(whole.resolve("model")), b = weights(run.resolve("model"));
        int differ = 0;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) differ++;
        assertTrue(differ > a.length / 2, differ + " of " + a.length + " weights differ from the unbroken run's");
    }

    /**
     * A training JVM killed with SIGKILL while it writes a checkpoint (paused by a hook after the checkpoint's files
     * are complete in their temporary folder and before the rename): no step-000030 appears, step 20's checkpoint is
     * intact (its files unchanged, its weights and moments the unbroken run's), the resumed run starts from it, removes
     * the half-written folder and ends where the unbroken run ends.
     */
    @Test
    void killedWhileWritingACheckpointResumesFromThePreviousOne(@TempDir Path dir) throws Exception {
        Path whole = whole40(), killed = dir.resolve("killed");
        Map<String, Object> cfg = resumable(killed);
        Path childLog = dir.resolve("child.log");
        Process p = child(cfg, childLog, Map.of(), "-Dgpt4j.test.pauseBeforeRename=step-000030");
        Checkpoints ck = new Checkpoints(killed.resolve("checkpoints"));
        Path tmp;
        Map<String, String> before;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            String out = "";
            while (!out.contains("PAUSED ") && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
                out = Files.exists(childLog) ? Files.readString(childLog) : "";
            }
            assertTrue(out.contains("PAUSED "), "the child did not reach the checkpoint of step 30:\n" + out);
            tmp = Path.of(out.substring(out.indexOf("PAUSED ") + 7).lines().findFirst().orElseThrow().strip());
            for (String f : List.of("model.safetensors", "optimizer.safetensors", "trainer.json")) {
                assertTrue(Files.isRegularFile(tmp.resolve(f)), "written but not yet renamed: " + tmp.resolve(f));
            }
            assertEquals(List.of("step-000010", "step-000020"), ck.list().stream().map(q -> q.getFileName().toString()).toList());
            before = digests(killed.resolve("checkpoints/step-000020"));
        } finally {
            p.destroyForcibly(); // SIGKILL on Unix
            p.waitFor();
        }
        assertNotEquals(0, p.exitValue());
        assertTrue(Files.isDirectory(tmp), "the half-written checkpoint is still there");
        assertFalse(Files.exists(killed.resolve("checkpoints/step-000030")));
        Path previous = killed.resolve("checkpoints/step-000020");
        assertEquals(previous, ck.latest().orElseThrow());
        assertEquals(before, digests(previous));
        assertArrayEquals(weights(whole.resolve("checkpoints/step-000020")), weights(previous));
        assertArrayEquals(Files.readAllBytes(whole.resolve("checkpoints/step-000020/optimizer.safetensors")),
                Files.readAllBytes(previous.resolve("optimizer.safetensors")));
        String log = resume(cfg);
        assertTrue(log.contains("resumed from " + previous + " at step 20"), log);
        assertEquals(25, firstLoggedStep(log), "resumed at step 20, the first progress line is step 25's:\n" + log);
        assertArrayEquals(weights(whole.resolve("model")), weights(killed.resolve("model")));
        assertEquals(curve(whole.resolve("metrics.jsonl")), curve(killed.resolve("metrics.jsonl")));
        try (var files = Files.list(killed.resolve("checkpoints"))) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith(".")).toList(), "leftovers of the killed write");
        }
    }

    /** SHA-256 of every file in a folder, by name. */
    static Map<String, String> digests(Path dir) throws Exception {
        Map<String, String> out = new java.util.TreeMap<>();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f));
                out.put(f.getFileName().toString(), java.util.HexFormat.of().formatHex(d));
            }
        }
        return out;
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
    static Process child(Map<String, Object> cfg, Path log, Map<String, String> env, String... jvmOptions) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dgpt4j.data=" + DATA));
        cmd.addAll(List.of(jvmOptions));
        cmd.add(TrainerChild.class.getName());
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
        Map<String, Object> m = config(file.resolve("run"), 10);
        var e = assertThrows(IllegalArgumentException.class, () -> new Trainer(TrainConfig.of(m), QUIET).run(false));
        assertTrue(e.getMessage().contains(file.resolve("run").toString()), e.getMessage());
    }

    /**
     * Fine-tuning a few hundred WikiSQL examples: the loss on the SQL falls, the model folder answers through
     * TextToSql, and on examples it has seen many times it writes their SQL exactly.
     */
    @Test
    void fineTuningLearnsTheSqlOfItsExamples(@TempDir Path dir) throws Exception {
        List<TextToSqlExample> pairs = Corpora.fineTuning(TestData.dir("wikisql")).stream().filter(e -> e.source().equals("wikisql")).limit(3000).toList();
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
