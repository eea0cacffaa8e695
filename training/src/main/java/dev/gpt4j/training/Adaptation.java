package dev.gpt4j.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.LoraAdapter;
import dev.gpt4j.core.LoraConfig;
import dev.gpt4j.data.Corpora;
import dev.gpt4j.data.Corrections;
import dev.gpt4j.data.DatabaseDrills;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqliteDatabase;
import dev.gpt4j.data.TextToSqlExample;
import dev.gpt4j.data.WikiSqlDrills;
import dev.gpt4j.sql.AdapterRecord;
import dev.gpt4j.tokenizer.AtomicFiles;
import dev.gpt4j.tokenizer.BpeTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Learns a LoRA adapter for one database: what {@code gpt4j adapt} runs. From the database's schema and sampled rows
 * ({@link DatabaseDrills}), the corrected pairs users gave ({@link Corrections}, weighted), and a replay sample of the
 * original fine-tuning data (WikiSQL and Spider train, so that the adapter does not forget SQL in general), the
 * {@link Trainer} fits an adapter over the frozen model. The output folder holds the PEFT adapter, its record
 * ({@link AdapterRecord#FILE}: schema hash, drills and drops by template, feedback used and skipped, replay, steps,
 * time, base model, settings) and the metrics log; it is written in a temporary folder beside it and renamed into
 * place, so it is never half there.
 *
 * <p>One instance may adapt many databases in turn (the replay pool is read once).
 */
public final class Adaptation {
    /**
     * How to adapt.
     *
     * @param steps           optimizer steps (used when {@code minutes} is 0)
     * @param minutes         a time budget instead of steps: the steps are chosen from a short timing of this machine, and
     *                        the run ends at the budget if it is slower than timed (0: use {@code steps})
     * @param batchSize       examples per step
     * @param lr              peak learning rate (warm-up, then cosine to {@code minLr})
     * @param minLr           final learning rate
     * @param warmupSteps     warm-up steps
     * @param lora            the adapter's shape ({@link LoraConfig#parse})
     * @param replay          the fraction of each epoch's examples that are replayed fine-tuning data (0 to 0.9)
     * @param replaySpider    the fraction of the replay taken from Spider train (the rest from WikiSQL train)
     * @param feedbackRepeats how many times each corrected pair occurs per epoch
     * @param seed            seeds drills, replay sample, adapter initialisation and batches
     * @param drills          the drill generator's options
     * @param dataDir         the data folder with the fine-tuning data to replay ({@code ../shared/data} layout); empty: the
     *                        default; a folder without it means no replay (recorded)
     * @param style           {@code spider}: {@link DatabaseDrills} (any database); {@code wikisql}: {@link WikiSqlDrills} (a
     *                        WikiSQL table from its header, in WikiSQL's grammar)
     */
    public record Settings(int steps, double minutes, int batchSize, double lr, double minLr, int warmupSteps, String lora, double replay,
                           double replaySpider, int feedbackRepeats, long seed, DatabaseDrills.Options drills, String dataDir, String style) {
        public Settings {
            if (steps < 1) throw new IllegalArgumentException("steps must be at least 1, not " + steps);
            if (!(minutes >= 0) || minutes > 24 * 60) throw new IllegalArgumentException("minutes must be between 0 and 1440, not " + minutes);
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, not " + batchSize);
            if (!(lr > 0) || !(minLr >= 0 && minLr <= lr)) throw new IllegalArgumentException("need lr > 0 and 0 <= min lr <= lr, not " + lr + ", " + minLr);
            if (!(replay >= 0 && replay <= 0.9)) throw new IllegalArgumentException("replay must be a fraction from 0 to 0.9, not " + replay);
            if (!(replaySpider >= 0 && replaySpider <= 1)) throw new IllegalArgumentException("replaySpider must be from 0 to 1, not " + replaySpider);
            if (feedbackRepeats < 1) throw new IllegalArgumentException("feedback repeats must be at least 1, not " + feedbackRepeats);
            LoraConfig.parse(lora);
            if (dataDir == null) dataDir = "";
            if (!style.equals("spider") && !style.equals("wikisql")) throw new IllegalArgumentException("drill style must be spider or wikisql, not " + style);
        }

        /**
         * The recipe {@code gpt4j adapt} uses by default, chosen without Spider or WikiSQL dev data (see the model card):
         * rank 16 on every linear layer, 400 steps of 16 examples, lr 1e-3 to 1e-4, a third of the examples replayed.
         */
        public static Settings defaults() {
            return new Settings(400, 0, 16, 1e-3, 1e-4, 30, "r=16,alpha=32,dropout=0.05,targets=c_attn,c_proj,c_fc", 0.3, 0.7, 8, 1,
                    DatabaseDrills.Options.defaults(), "", "spider");
        }

        public Settings withSteps(int s) {
            return new Settings(s, 0, batchSize, lr, minLr, warmupSteps, lora, replay, replaySpider, feedbackRepeats, seed, drills, dataDir, style);
        }

        public Settings withMinutes(double m) {
            return new Settings(steps, m, batchSize, lr, minLr, warmupSteps, lora, replay, replaySpider, feedbackRepeats, seed, drills, dataDir, style);
        }

        public Settings withLr(double l, double min) {
            return new Settings(steps, minutes, batchSize, l, min, warmupSteps, lora, replay, replaySpider, feedbackRepeats, seed, drills, dataDir, style);
        }

        public Settings withBatchSize(int b) {
            return new Settings(steps, minutes, b, lr, minLr, warmupSteps, lora, replay, replaySpider, feedbackRepeats, seed, drills, dataDir, style);
        }

        public Settings withLora(String l) {
            return new Settings(steps, minutes, batchSize, lr, minLr, warmupSteps, l, replay, replaySpider, feedbackRepeats, seed, drills, dataDir, style);
        }

        public Settings withReplay(double r, double spider) {
            return new Settings(steps, minutes, batchSize, lr, minLr, warmupSteps, lora, r, spider, feedbackRepeats, seed, drills, dataDir, style);
        }

        public Settings withFeedbackRepeats(int k) {
            return new Settings(steps, minutes, batchSize, lr, minLr, warmupSteps, lora, replay, replaySpider, k, seed, drills, dataDir, style);
        }

        public Settings withSeed(long s) {
            return new Settings(steps, minutes, batchSize, lr, minLr, warmupSteps, lora, replay, replaySpider, feedbackRepeats, s, drills.withSeed(s), dataDir, style);
        }

        public Settings withDrills(DatabaseDrills.Options d) {
            return new Settings(steps, minutes, batchSize, lr, minLr, warmupSteps, lora, replay, replaySpider, feedbackRepeats, seed, d, dataDir, style);
        }

        public Settings withWarmup(int w) {
            return new Settings(steps, minutes, batchSize, lr, minLr, w, lora, replay, replaySpider, feedbackRepeats, seed, drills, dataDir, style);
        }

        public Settings withStyle(String st) {
            return new Settings(steps, minutes, batchSize, lr, minLr, warmupSteps, lora, replay, replaySpider, feedbackRepeats, seed, drills, dataDir, st);
        }

        public Settings withDataDir(String d) {
            return new Settings(steps, minutes, batchSize, lr, minLr, warmupSteps, lora, replay, replaySpider, feedbackRepeats, seed, drills, d, style);
        }
    }

    /**
     * One database to adapt to.
     *
     * @param name     names the schema in the record and in the drills' group
     * @param schema   its schema (from DDL, the database itself, or Spider's tables.json)
     * @param from     where the schema was read, for the record ("database FILE", "DDL FILE")
     * @param database its SQLite file for values and checks (null: schema only)
     * @param feedback a corrections file ({@code question<TAB>sql}; null: none)
     * @param out      the adapter folder to write
     * @param force    replace {@code out} if it exists
     */
    public record Request(String name, Schema schema, String from, Path database, Path feedback, Path out, boolean force) {}

    /** What an adaptation wrote: the folder and its record. */
    public record Result(Path out, ObjectNode record) {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path model;
    private final Settings s;
    private final PrintStream log;
    private boolean progressBar = System.console() != null;
    private List<TextToSqlExample> replayPool;
    private String replayNote;

    public Adaptation(Path model, Settings settings, PrintStream log) {
        this.model = model;
        this.s = settings;
        this.log = log;
    }

    private int checkpointEvery;
    private Path checkpointsTo;

    /**
     * For choosing settings: also keeps the adapter every {@code every} steps (each a PEFT folder) in
     * {@code to/step-NNNNNN}, so that one run shows how answers change with the steps.
     */
    public Adaptation keepCheckpoints(int every, Path to) {
        this.checkpointEvery = every;
        this.checkpointsTo = to;
        return this;
    }

    /** Shows the trainer's progress bar (standard error). Default: when on a terminal. */
    public Adaptation progressBar(boolean on) {
        this.progressBar = on;
        return this;
    }

    /**
     * Refuses an output folder that exists (without {@code force}) or cannot be made, before any work.
     *
     * @throws IllegalArgumentException saying which
     */
    public static void checkOut(Path out, boolean force) {
        if (Files.exists(out) && !force) throw new IllegalArgumentException(out + " already exists (use --force to replace it)");
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException(out + " exists and is not a folder");
        Path parent = out.toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create the folder " + parent + ": " + e.getMessage(), e);
        }
        if (!Files.isWritable(parent)) throw new IllegalArgumentException("cannot write in " + parent);
    }

    /** Adapts to one database; see the class comment. */
    public Result adapt(Request r) {
        long t0 = System.nanoTime();
        checkOut(r.out(), r.force());
        if (r.schema().tables().isEmpty()) throw new IllegalArgumentException(r.from() + ": the schema has no tables");
        if (!Files.isDirectory(model)) throw new IllegalArgumentException("no model folder at " + model);
        ObjectNode rec = JSON.createObjectNode();
        rec.put("format", AdapterRecord.FORMAT);
        rec.put("created", Instant.now().toString());
        ObjectNode sch = rec.putObject("schema");
        sch.put("name", r.name());
        sch.put("hash", PromptFormat.schemaHash(r.schema()));
        sch.put("from", r.from());
        sch.put("tables", r.schema().tables().size());
        sch.put("columns", r.schema().columnCount());
        sch.put("foreign_keys", r.schema().foreignKeys().size());

        // drills (and the feedback's check) on the database, opened read-only with short time-outs
        DatabaseDrills.Result drills;
        Corrections feedback = null;
        SqliteDatabase db = null;
        try {
            if (r.database() != null) db = SqliteDatabase.open(r.database(), Duration.ofSeconds(2), 1000);
            drills = s.style().equals("wikisql") ? WikiSqlDrills.generate(r.name(), r.schema(), s.drills())
                    : DatabaseDrills.generate(r.name(), r.schema(), db, s.drills());
            if (r.feedback() != null) feedback = Corrections.read(r.feedback(), db);
        } finally {
            if (db != null) db.close();
        }
        DatabaseDrills.Report dr = drills.report();
        log.printf(Locale.ROOT, "drills: %,d kept, %,d dropped (%s); values from the %s%n", dr.keptTotal(), dr.droppedTotal(),
                dr.droppedBy().isEmpty() ? "none" : dr.droppedBy().toString().replaceAll("[{}]", ""), dr.values().equals("database") ? "database's rows" : dr.values() + " values");
        if (drills.drills().isEmpty()) throw new IllegalArgumentException(r.from() + ": no drill could be written for this schema");
        ObjectNode db0 = rec.putObject("database");
        if (r.database() != null) {
            db0.put("file", r.database().toString());
            db0.put("rows_read", dr.rowsRead());
            db0.put("rows_per_table_bound", s.drills().rowsPerTable());
        } else {
            rec.putNull("database");
        }
        ObjectNode dj = rec.putObject("drills");
        dj.put("kept", dr.keptTotal());
        dj.put("dropped", dr.droppedTotal());
        dj.put("values", dr.values());
        dj.put("phrasings", s.drills().phrasings());
        dj.put("style", s.style());
        ObjectNode byT = dj.putObject("by_template");
        dr.kept().forEach((t, k) -> byT.putObject(t).put("kept", k).put("dropped", dr.dropped().getOrDefault(t, 0)));
        ObjectNode byR = dj.putObject("dropped_by_reason");
        dr.droppedBy().forEach(byR::put);
        ArrayNode inf = dj.putArray("inferred_keys");
        dr.inferredKeys().forEach(inf::add);
        ArrayNode held = dj.putArray("held_out_questions");
        s.drills().heldOut().stream().sorted().forEach(held::add);

        List<TextToSqlExample> pairs = new ArrayList<>(drills.drills());
        Map<String, Integer> repeats = new LinkedHashMap<>();
        if (feedback != null) {
            for (Corrections.Pair p : feedback.pairs()) pairs.add(new TextToSqlExample("feedback", r.name(), r.schema(), p.question(), p.sql()));
            repeats.put("feedback", s.feedbackRepeats());
            ObjectNode fj = rec.putObject("feedback");
            fj.put("file", feedback.file().toString());
            fj.put("pairs_used", feedback.pairs().size());
            fj.put("lines_skipped", feedback.skipped().size());
            fj.put("repeats_per_epoch", s.feedbackRepeats());
            ArrayNode sk = fj.putArray("skipped");
            feedback.skipped().forEach(sk::add);
            log.printf(Locale.ROOT, "feedback: %d pairs used, %d lines skipped%s%n", feedback.pairs().size(), feedback.skipped().size(),
                    feedback.skipped().isEmpty() ? "" : " (" + String.join("; ", feedback.skipped().subList(0, Math.min(3, feedback.skipped().size())))
                            + (feedback.skipped().size() > 3 ? "; ..." : "") + ")");
        } else {
            rec.putNull("feedback");
        }

        // replay: this fraction of the examples, from the original fine-tuning data
        List<TextToSqlExample> replay = replaySample(pairs.size(), r.name());
        pairs.addAll(replay);
        ObjectNode rj = rec.putObject("replay");
        rj.put("examples", replay.size());
        rj.put("spider", replay.stream().filter(e -> e.source().equals("spider")).count());
        rj.put("wikisql", replay.stream().filter(e -> e.source().equals("wikisql")).count());
        rj.put("fraction", s.replay());
        if (replayNote != null) rj.put("note", replayNote);

        Path parent = r.out().toAbsolutePath().getParent();
        Path tmp;
        try {
            tmp = Files.createTempDirectory(parent, ".tmp-" + r.out().getFileName() + "-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary folder in " + parent + ": " + e.getMessage(), e);
        }
        try {
            Path work = tmp.resolve("work");
            int steps = s.minutes() > 0 ? plannedSteps(pairs, repeats, t0) : s.steps();
            Map<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("mode", "finetune");
            cfg.put("out", work.toString());
            cfg.put("init", model.toString());
            cfg.put("steps", steps);
            cfg.put("batch_size", s.batchSize());
            cfg.put("lr", s.lr());
            cfg.put("min_lr", s.minLr());
            cfg.put("warmup_steps", Math.min(s.warmupSteps(), Math.max(0, steps / 5)));
            cfg.put("weight_decay", 0.0);
            cfg.put("lora", s.lora());
            cfg.put("seed", s.seed());
            cfg.put("eval_every", 0);
            cfg.put("checkpoint_every", checkpointEvery);
            cfg.put("keep_last", checkpointEvery > 0 ? 1000 : 1);
            cfg.put("accuracy_every", 0); // never a dev set: the adapter learns from this database alone
            cfg.put("val_percent", 0);
            cfg.put("log_every", Math.max(1, Math.min(50, steps / 10)));
            TrainConfig tc = TrainConfig.of(cfg);
            Trainer trainer = new Trainer(tc, log).examples(pairs, repeats).progressBar(progressBar);
            if (s.minutes() > 0) trainer.deadline(t0 + (long) (s.minutes() * 60e9));
            long tt = System.nanoTime();
            Trainer.Result res = trainer.run(false);
            double trainSeconds = (System.nanoTime() - tt) / 1e9;

            if (checkpointsTo != null && Files.isDirectory(work.resolve("checkpoints"))) {
                Files.createDirectories(checkpointsTo.toAbsolutePath().getParent());
                Files.move(work.resolve("checkpoints"), checkpointsTo);
            }
            Path fin = tmp.resolve("adapter");
            Files.move(res.modelDir(), fin);
            // the trainer's folder also holds the tokenizer and state: an adapter folder is the PEFT pair and our files
            for (String f : List.of("vocab.json", "merges.txt", Checkpoints.STATE, Checkpoints.OPTIMIZER)) Files.deleteIfExists(fin.resolve(f));
            if (Files.isRegularFile(res.metrics())) Files.copy(res.metrics(), fin.resolve("metrics.jsonl"));
            ObjectNode tj = rec.putObject("training");
            tj.put("steps", res.steps());
            tj.put("planned_steps", steps);
            tj.put("stopped_at_time_limit", trainer.stoppedAtDeadline());
            if (s.minutes() > 0) tj.put("minutes_budget", s.minutes());
            tj.put("batch_size", s.batchSize());
            tj.put("lr", s.lr());
            tj.put("min_lr", s.minLr());
            tj.put("warmup_steps", tc.warmupSteps());
            tj.put("lora", LoraConfig.parse(s.lora()).toString());
            tj.put("seed", s.seed());
            tj.put("examples", pairs.size());
            tj.put("last_loss", res.lastLoss());
            tj.put("train_seconds", Math.round(trainSeconds * 10) / 10.0);
            ObjectNode bm = rec.putObject("base_model");
            bm.put("path", model.toString());
            bm.put("sha256", sha256(model.resolve("model.safetensors")));
            rec.put("seconds", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
            AtomicFiles.write(fin.resolve(AdapterRecord.FILE), o -> JSON.writeValue(o, rec));
            install(fin, r.out(), tmp);
            log.printf(Locale.ROOT, "adapter for %s in %s (%,d drills, %d steps, %.0f s)%n", r.name(), r.out(), dr.keptTotal(), res.steps(),
                    (System.nanoTime() - t0) / 1e9);
            return new Result(r.out(), rec);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the adapter " + r.out() + ": " + e.getMessage(), e);
        } finally {
            Checkpoints.deleteTree(tmp);
        }
    }

    /** Puts the finished folder at {@code out}: a rename; an old folder (with --force) is moved aside first and deleted. */
    private static void install(Path fin, Path out, Path tmp) throws IOException {
        // a temporary folder is private (rwx------); the adapter is an ordinary folder of readable files
        try {
            Files.setPosixFilePermissions(fin, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            try (var files = Files.list(fin)) {
                for (Path f : files.toList()) Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            }
        } catch (UnsupportedOperationException notPosix) {
            // the platform's defaults stand
        }
        Path replaced = tmp.resolve("replaced");
        boolean moved = Files.exists(out);
        if (moved) Files.move(out, replaced, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(fin, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (moved) Files.move(replaced, out, StandardCopyOption.ATOMIC_MOVE); // the old adapter stays, not neither
            throw e;
        }
    }

    /**
     * Steps that fit the time budget: a few training steps on these examples are timed (a throwaway adapter), and what
     * is left of the budget after the time spent so far is divided by the time per step.
     */
    private int plannedSteps(List<TextToSqlExample> pairs, Map<String, Integer> repeats, long t0) {
        try (GptModel m = GptModel.loadFrozen(model, null)) {
            BpeTokenizer tok = BpeTokenizer.load(model).withSpecialTokens(PromptFormat.SPECIAL_TOKENS.toArray(new String[0]));
            LoraAdapter a = LoraAdapter.create(LoraConfig.parse(s.lora()), m.config(), model.toString(), s.seed());
            m.addAdapter("timing", a);
            m.setActiveAdapter("timing");
            m.freezeBase();
            int T = m.config().contextLength();
            FinetuneData data = new FinetuneData(pairs, new PromptFormat(tok), 0, 0, s.batchSize(), T, s.seed(), repeats);
            m.keepActivationShapes((T + FinetuneData.BUCKET - 1) / FinetuneData.BUCKET);
            m.train();
            long start = 0;
            int timed = 0;
            for (int i = 0; i < 6; i++) {
                if (i == 2) start = System.nanoTime(); // the first steps warm up the JIT and the shapes
                Batch b = data.train(i);
                m.forward(b.inputs(), b.targets(), b.batchSize(), b.length());
                m.backward();
                if (i >= 2) timed++;
            }
            double perStep = (System.nanoTime() - start) / 1e9 / timed;
            double left = s.minutes() * 60 - (System.nanoTime() - t0) / 1e9 - 10; // ~10 s to load, write and rename
            int steps = (int) Math.max(1, Math.floor(left / (perStep * 1.05)));
            log.printf(Locale.ROOT, "timing: %.2f s per step here; %d steps fit in %.1f minutes%n", perStep, steps, s.minutes());
            return steps; // the timing adapter closes with the model
        }
    }

    /** A seeded sample of the original fine-tuning data, {@link Settings#replay()} of the whole (none without the data). */
    private List<TextToSqlExample> replaySample(int own, String name) {
        if (s.replay() == 0) {
            replayNote = "replay is off";
            return List.of();
        }
        if (replayPool == null) {
            Path dir = Path.of(s.dataDir().isBlank() ? Trainer.defaultData() : s.dataDir());
            try {
                replayPool = Files.isDirectory(dir) ? Corpora.fineTuning(dir) : List.of();
                replayNote = replayPool.isEmpty() ? "no fine-tuning data in " + dir + ": no replay" : null;
            } catch (RuntimeException e) {
                replayPool = List.of();
                replayNote = "cannot read the fine-tuning data in " + dir + " (" + e.getMessage() + "): no replay";
            }
            if (replayNote != null) log.println("note: " + replayNote);
        }
        if (replayPool.isEmpty()) return List.of();
        int n = (int) Math.round(own * s.replay() / (1 - s.replay()));
        List<TextToSqlExample> spider = new ArrayList<>(), wiki = new ArrayList<>();
        for (TextToSqlExample e : replayPool) (e.source().equals("spider") ? spider : wiki).add(e);
        Random rnd = new Random(DatabaseDrillsSeed.of(name + "/replay/" + s.seed()));
        int ns = (int) Math.round(n * s.replaySpider());
        List<TextToSqlExample> out = new ArrayList<>();
        out.addAll(pickSome(spider, wiki.isEmpty() ? n : ns, rnd));
        out.addAll(pickSome(wiki, spider.isEmpty() ? n : n - ns, rnd));
        return out;
    }

    private static List<TextToSqlExample> pickSome(List<TextToSqlExample> xs, int n, Random rnd) {
        if (xs.isEmpty() || n <= 0) return List.of();
        List<TextToSqlExample> c = new ArrayList<>(xs);
        Collections.shuffle(c, rnd);
        return c.subList(0, Math.min(n, c.size()));
    }

    /** Seeds from names (CRC32 of the text). */
    private static final class DatabaseDrillsSeed {
        static long of(String s) {
            java.util.zip.CRC32 c = new java.util.zip.CRC32();
            c.update(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return c.getValue();
        }
    }

    static String sha256(Path f) {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
