package dev.gpt4j.training;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.core.AdamW;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.LoraAdapter;
import dev.gpt4j.core.LoraConfig;
import dev.gpt4j.core.Parameters;
import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.data.Corpora;
import dev.gpt4j.data.DataDir;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.SchemaDrills;
import dev.gpt4j.data.ScoreReport;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import dev.gpt4j.data.TextToSqlExample;
import dev.gpt4j.data.WikiSql;
import dev.gpt4j.data.WikiSqlExample;
import dev.gpt4j.sql.Decoding;
import dev.gpt4j.sql.Evaluator;
import dev.gpt4j.sql.SqlRules;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generator;
import dev.gpt4j.sql.TextToSql;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The training loop of Raschka ch. 5 (pretraining) and ch. 7 (fine-tuning), built to run for hours and survive
 * being killed: warm-up + cosine learning rate, gradient accumulation, global-norm clipping, AdamW with a
 * weight-decay mask; periodic validation loss, dev-set accuracy (fine-tuning), a sample generation, atomic
 * checkpoints (the last N and the best), a JSON-lines metrics log and a PNG plot. Batches and dropout masks are
 * functions of (seed, step), and a checkpoint holds weights, AdamW moments and step, so a resumed run continues
 * bit for bit as if never stopped.
 *
 * <pre>{@code
 * TrainConfig cfg = TrainConfig.of(Map.of("mode", "pretrain", "out", "runs/p", "preset", "tiny", "steps", 500));
 * Trainer.Result r = new Trainer(cfg, System.out).run(false);
 * }</pre>
 */
public final class Trainer {
    /** What a run ended with. */
    public record Result(long steps, double lastLoss, double bestMetric, String metric, Path modelDir, Path metrics) {}

    private final TrainConfig cfg;
    private final PrintStream log;
    private long stopAfter = Long.MAX_VALUE;
    private boolean hasDeadline;
    private long deadlineNanos; // System.nanoTime() after which the run ends early, if hasDeadline
    private boolean stoppedAtDeadline;
    private boolean progressBar = System.console() != null;
    private List<TextToSqlExample> givenPairs; // fine-tuning pairs given by the caller instead of config key datasets
    private Map<String, Integer> givenRepeats = Map.of();

    /** The name of the adapter a LoRA run trains, in the model it is added to. */
    static final String ADAPTER = "train";

    public Trainer(TrainConfig cfg, PrintStream log) {
        this.cfg = cfg;
        this.log = log;
    }

    /** Stops (as if interrupted) once the run reaches this many steps; for tests of resuming. */
    public Trainer stopAfter(long steps) {
        this.stopAfter = steps;
        return this;
    }

    /**
     * Fine-tunes on these pairs instead of the datasets that config key {@code datasets} names (as {@code gpt4j adapt}
     * does with a database's drills, its feedback and a replay sample); a pair of source s occurs {@code repeats.get(s)}
     * times per epoch (1 where the map has none). The validation split is still {@link Corpora#isValidation}'s.
     */
    public Trainer examples(List<TextToSqlExample> pairs, Map<String, Integer> repeats) {
        this.givenPairs = List.copyOf(pairs);
        this.givenRepeats = Map.copyOf(repeats);
        return this;
    }

    /**
     * Ends the run after the first step that finishes past {@code nanoTime} (a {@link System#nanoTime()} value), as if
     * {@code steps} were that step: the final folder is written with the steps done. For a time budget.
     */
    public Trainer deadline(long nanoTime) {
        this.deadlineNanos = nanoTime;
        this.hasDeadline = true;
        return this;
    }

    /** Whether the last {@link #run} ended at its {@link #deadline} before its configured steps. */
    public boolean stoppedAtDeadline() {
        return stoppedAtDeadline;
    }

    /** Shows a progress bar (on standard error) instead of periodic lines. Default: when on a terminal. */
    public Trainer progressBar(boolean on) {
        this.progressBar = on;
        return this;
    }

    public TrainConfig config() {
        return cfg;
    }

    /** The effective config of an earlier run in {@code out} (its {@code train-config.json}). */
    public static Optional<java.util.Map<String, Object>> previousConfig(Path out) {
        Path f = out.resolve("train-config.json");
        return Files.isRegularFile(f) ? Optional.of(TrainConfig.read(f)) : Optional.empty();
    }

    /** Runs (or, with {@code resume}, continues from the newest checkpoint in {@code out}) to {@code steps}. */
    public Result run(boolean resume) {
        Path out = Path.of(cfg.out());
        Checkpoints ckpts = new Checkpoints(out.resolve("checkpoints"));
        Optional<Path> from = resume ? ckpts.latest() : Optional.empty();
        if (!resume && !ckpts.list().isEmpty()) {
            throw new IllegalArgumentException(out + " already holds checkpoints: resume with --resume, or choose another --out");
        }
        preflight(out);
        cfg.write(out.resolve("train-config.json"));
        Path dataDir = Path.of(cfg.data().isBlank() ? defaultData() : cfg.data());

        // tokenizer
        BpeTokenizer tok;
        List<String> docs = null;
        if (from.isPresent()) tok = BpeTokenizer.load(from.get());
        else if (cfg.mode().equals("finetune")) tok = BpeTokenizer.load(Path.of(cfg.init()));
        else if (!cfg.tokenizer().isBlank()) tok = BpeTokenizer.load(Path.of(cfg.tokenizer()));
        else {
            docs = pretrainingDocuments(dataDir);
            long t0 = System.nanoTime();
            tok = new BpeTrainer(cfg.vocabSize(), PromptFormat.SPECIAL_TOKENS).train(docs);
            log.printf(Locale.ROOT, "learnt a %,d-token vocabulary in %.1f s%n", tok.vocabSize(), (System.nanoTime() - t0) / 1e9);
        }
        tok = tok.withSpecialTokens(PromptFormat.SPECIAL_TOKENS.toArray(new String[0]));

        // model: a checkpoint of a full run holds the whole model; one of a LoRA run only the adapter, over init
        boolean lora = !cfg.lora().isBlank();
        GptModel model;
        if (from.isPresent() && !lora) model = GptModel.load(from.get());
        else if (cfg.mode().equals("finetune") && lora) {
            // the base frozen from the start, and (QLoRA) its linear weights packed as they are read: never whole in float32
            model = GptModel.loadFrozen(Path.of(cfg.init()), cfg.baseDtype().equals("f32") ? null : QuantType.parse(cfg.baseDtype()));
        } else if (cfg.mode().equals("finetune")) model = GptModel.load(Path.of(cfg.init()));
        else model = GptModel.create(cfg.modelConfig(tok.vocabSize()), cfg.seed());
        model.setDropoutSeed(cfg.seed()); // a loaded model must draw the masks a created one draws
        try {
            if (lora) {
                LoraAdapter adapter = from.isPresent() ? LoraAdapter.load(from.get(), model.config())
                        : LoraAdapter.create(LoraConfig.parse(cfg.lora()), model.config(), cfg.init(), cfg.seed());
                model.addAdapter(ADAPTER, adapter);
                model.setActiveAdapter(ADAPTER);
                model.freezeBase();
                // QLoRA: the frozen base's linear weights packed (NF4 with its absmax double-quantized, as QLoRA does)
                if (!cfg.baseDtype().equals("f32")) {
                    QuantType t = QuantType.parse(cfg.baseDtype());
                    model.storeWeightsAs(t, t == QuantType.NF4);
                }
            }
            if (tok.vocabSize() > model.config().vocabSize()) {
                throw new IllegalArgumentException("the tokenizer has " + tok.vocabSize() + " tokens but the model only " + model.config().vocabSize());
            }
            int T = cfg.seqLen() > 0 ? Math.min(cfg.seqLen(), model.config().contextLength()) : model.config().contextLength();
            TrainingData data;
            if (cfg.mode().equals("pretrain")) {
                if (docs == null) docs = pretrainingDocuments(dataDir);
                data = new PretrainData(docs, tok, cfg.valPercent(), cfg.batchSize(), T, cfg.seed());
            } else {
                List<TextToSqlExample> pairs = new ArrayList<>();
                Map<String, Integer> repeats = cfg.datasetRepeats();
                if (givenPairs != null) {
                    pairs.addAll(givenPairs);
                    repeats = givenRepeats;
                } else {
                    for (TextToSqlExample e : Corpora.fineTuning(dataDir)) if (repeats.containsKey(e.source())) pairs.add(e);
                    if (repeats.containsKey(SchemaDrills.SOURCE)) pairs.addAll(Corpora.schemaDrills(dataDir, false));
                    if (repeats.containsKey(SchemaDrills.COMPOUND)) pairs.addAll(Corpora.schemaDrills(dataDir, true));
                }
                data = new FinetuneData(pairs, new PromptFormat(tok), cfg.valPercent(), cfg.maxExamples(), cfg.batchSize(), T, cfg.seed(),
                        repeats);
                model.keepActivationShapes((T + FinetuneData.BUCKET - 1) / FinetuneData.BUCKET);
            }
            log.println(model);
            log.println(data.describe());
            return loop(model, tok, data, ckpts, from, out, dataDir);
        } finally {
            model.close();
        }
    }

    private Result loop(GptModel model, BpeTokenizer tok, TrainingData data, Checkpoints ckpts, Optional<Path> from, Path out, Path dataDir) {
        // what trains: the whole model, or only the adapter's A and B over a frozen base
        Parameters trained = model.activeAdapter() != null ? model.activeAdapter().params() : model.params();
        AdamW opt = new AdamW(trained, cfg.weightDecay());
        long step = 0, tokens = 0;
        boolean byAccuracy = cfg.mode().equals("finetune") && cfg.accuracyEvery() > 0;
        String metric = byAccuracy ? "accuracy" : "val_loss";
        double best = byAccuracy ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        long bestStep = -1;
        if (from.isPresent()) {
            Checkpoints.State st = Checkpoints.readState(from.get());
            Checkpoints.restoreOptimizer(from.get(), opt);
            step = st.step();
            tokens = st.tokens();
            best = st.bestMetric();
            bestStep = st.bestStep();
            log.println("resumed from " + from.get() + " at step " + step);
        }
        AccuracySample acc = byAccuracy ? new AccuracySample(dataDir, cfg) : null;
        LrSchedule lr = new LrSchedule(cfg.lr(), cfg.minLr(), cfg.warmupSteps(), cfg.steps());
        model.train();
        double lastLoss = Double.NaN;
        ProgressBar bar = progressBar ? new ProgressBarBuilder().setTaskName(cfg.mode()).setInitialMax(cfg.steps())
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().build() : null;
        if (bar != null) bar.stepTo(step);
        long t0 = System.nanoTime(), step0 = step;
        long windowNanos = 0, windowTokens = 0; // training steps only (no evaluation) since the last metrics row
        try (MetricsLog metrics = new MetricsLog(out.resolve("metrics.jsonl"), from.isPresent() ? step : -1)) {
            stoppedAtDeadline = false;
            while (step < cfg.steps() && step < stopAfter) {
                double rate = lr.at(step);
                long stepStart = System.nanoTime(), tokensBefore = tokens;
                model.zeroGrad();
                double loss = 0;
                for (int micro = 0; micro < cfg.accumSteps(); micro++) {
                    long index = step * cfg.accumSteps() + micro;
                    Batch b = data.train(index);
                    model.setDropoutStep(index);
                    loss += model.forward(b.inputs(), b.targets(), b.batchSize(), b.length()) / cfg.accumSteps();
                    model.backward();
                    tokens += (long) b.batchSize() * b.length();
                }
                if (cfg.accumSteps() > 1) trained.grads().muli(1.0 / cfg.accumSteps());
                double norm = cfg.gradClip() > 0 ? opt.clipGradNorm(cfg.gradClip()) : AdamW.gradNorm(trained.grads());
                if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                    throw new TrainingDivergedException(step + 1, String.format(Locale.ROOT,
                            "step %d: the %s is %s; stopped before applying it. The last good checkpoint is %s. "
                                    + "Try a lower lr (now %.3g) or grad_clip.", step + 1, Double.isFinite(loss) ? "gradient norm" : "loss",
                            Double.isFinite(loss) ? norm : loss, ckpts.latest().map(Path::toString).orElse("(none yet)"), cfg.lr()));
                }
                opt.step(rate);
                windowNanos += System.nanoTime() - stepStart;
                windowTokens += tokens - tokensBefore;
                step++;
                lastLoss = loss;
                boolean logNow = step % cfg.logEvery() == 0 || step == cfg.steps();
                boolean evalNow = cfg.evalEvery() > 0 && (step % cfg.evalEvery() == 0 || step == cfg.steps()) && data.validationBatches() > 0;
                boolean accNow = acc != null && (step % cfg.accuracyEvery() == 0 || step == cfg.steps());
                if (logNow || evalNow || accNow) {
                    double secs = (System.nanoTime() - t0) / 1e9;
                    ObjectNode row = metrics.row(step).put("tokens", tokens).put("loss", loss).put("lr", rate).put("grad_norm", norm)
                            .put("tokens_per_s", Math.round(windowTokens / Math.max(1e-9, windowNanos / 1e9)));
                    windowNanos = 0;
                    windowTokens = 0;
                    if (evalNow) row.put("val_loss", validationLoss(model, data));
                    if (accNow) {
                        double[] a = acc.score(model, tok);
                        row.put("accuracy", a[0]);
                        if (!Double.isNaN(a[1])) row.put("wikisql_accuracy", a[1]);
                        if (!Double.isNaN(a[2])) row.put("spider_accuracy", a[2]);
                    }
                    metrics.write(row);
                    String line = progressLine(row, step, step0, secs);
                    if (bar != null) bar.setExtraMessage(line);
                    else log.println(line);
                    if (row.has(metric)) {
                        double v = row.get(metric).asDouble();
                        if (byAccuracy ? v > best : v < best) {
                            best = v;
                            bestStep = step;
                            Checkpoints.writeFolder(out.resolve("best"), model, tok, null, new Checkpoints.State(step, tokens, best, step, metric));
                        }
                    }
                    if (evalNow || accNow) LossPlot.write(metrics.rows(), cfg.mode() + " " + out.getFileName(), out.resolve("metrics.png"));
                }
                if (cfg.sampleEvery() > 0 && step % cfg.sampleEvery() == 0) sample(model, tok);
                if (bar != null) bar.stepTo(step);
                if ((cfg.checkpointEvery() > 0 && step % cfg.checkpointEvery() == 0) || step == cfg.steps()) {
                    ckpts.save(model, tok, opt, new Checkpoints.State(step, tokens, best, bestStep, metric));
                    ckpts.prune(cfg.keepLast());
                }
                if (hasDeadline && step < cfg.steps() && System.nanoTime() - deadlineNanos > 0) {
                    stoppedAtDeadline = true;
                    log.printf(Locale.ROOT, "time is up at step %d of %d%n", step, cfg.steps());
                    break;
                }
            }
            if (step == cfg.steps() || stoppedAtDeadline) {
                Checkpoints.writeFolder(out.resolve(finalFolder()), model, tok, null, new Checkpoints.State(step, tokens, best, bestStep, metric));
                LossPlot.write(metrics.rows(), cfg.mode() + " " + out.getFileName(), out.resolve("metrics.png"));
                String bestPart = bestStep < 0 ? "no " + metric + " measured (eval_every is 0 or above the steps)"
                        : String.format(Locale.ROOT, "best %s %.4f at step %d", metric, best, bestStep);
                log.printf(Locale.ROOT, "done: %d steps, last loss %.4f, %s; %s in %s%n", step, lastLoss, bestPart,
                        cfg.lora().isBlank() ? "model" : "adapter", out.resolve(finalFolder()));
            }
        } finally {
            if (bar != null) bar.close();
        }
        return new Result(step, lastLoss, best, metric, out.resolve(finalFolder()), out.resolve("metrics.jsonl"));
    }

    /** Where the end of the run goes: {@code model/}, or {@code adapter/} (a PEFT adapter folder) for a LoRA run. */
    private String finalFolder() {
        return cfg.lora().isBlank() ? "model" : "adapter";
    }

    private double validationLoss(GptModel model, TrainingData data) {
        model.eval();
        try {
            double sum = 0;
            int n = Math.min(cfg.evalBatches(), data.validationBatches());
            for (int i = 0; i < n; i++) {
                Batch b = data.validation(i);
                sum += model.forward(b.inputs(), b.targets(), b.batchSize(), b.length());
            }
            return sum / n;
        } finally {
            model.train();
        }
    }

    private void sample(GptModel model, BpeTokenizer tok) {
        Generator g = new Generator(model, tok);
        int[] prompt = tok.encode(cfg.samplePrompt());
        if (prompt.length == 0 || prompt.length >= model.config().contextLength()) return;
        String text = g.generate(prompt, GenerationOptions.sampled(48, 0.8, 20, 1.0, cfg.seed())).text();
        log.println("sample: " + cfg.samplePrompt() + text.replace("\n", "\\n"));
    }

    private String progressLine(ObjectNode row, long step, long step0, double secs) {
        double perStep = secs / Math.max(1, step - step0);
        long eta = Math.round(perStep * (cfg.steps() - step));
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "step %d/%d | loss %.4f", step, cfg.steps(), row.get("loss").asDouble()));
        if (row.has("val_loss")) sb.append(String.format(Locale.ROOT, " | val %.4f", row.get("val_loss").asDouble()));
        if (row.has("accuracy")) sb.append(String.format(Locale.ROOT, " | acc %.3f", row.get("accuracy").asDouble()));
        sb.append(String.format(Locale.ROOT, " | lr %.2e | %,d tok/s | ETA %dm%02ds", row.get("lr").asDouble(),
                row.get("tokens_per_s").asLong(), eta / 60, eta % 60));
        return sb.toString();
    }

    /** The output folder must be creatable and writable, with room for the checkpoints, before any work starts. */
    private void preflight(Path out) {
        try {
            Files.createDirectories(out);
            Path probe = Files.createTempFile(out, ".probe", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException("cannot write to the output folder " + out + ": " + e.getMessage(), e);
        }
        try {
            long free = Files.getFileStore(out).getUsableSpace();
            long params = estimateParameters();
            long need = params * 4L * 3 * (cfg.keepLast() + 3);
            if (free < need) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "the disk of %s has %,d MB free; the checkpoints of this run need about %,d MB",
                        out, free >> 20, need >> 20));
            }
        } catch (IOException e) {
            log.println("warning: cannot tell the free space of " + out + ": " + e.getMessage());
        }
    }

    private long estimateParameters() {
        var c = cfg.modelConfig(cfg.vocabSize() > 0 ? cfg.vocabSize() : 8192);
        long C = c.embedDim();
        return (long) c.vocabSize() * C + (long) c.contextLength() * C + 12L * C * C * c.layers();
    }

    private List<String> pretrainingDocuments(Path dataDir) {
        if (cfg.corpus().isBlank()) return Corpora.pretrainingDocuments(dataDir);
        Path c = Path.of(cfg.corpus());
        try {
            if (Files.isRegularFile(c)) return List.of(Files.readString(c, StandardCharsets.UTF_8));
            if (Files.isDirectory(c)) {
                List<String> docs = new ArrayList<>();
                try (Stream<Path> s = Files.walk(c)) {
                    for (Path p : s.filter(Files::isRegularFile).sorted().toList()) docs.add(Files.readString(p, StandardCharsets.UTF_8));
                }
                if (docs.isEmpty()) throw new IllegalArgumentException("config key 'corpus': " + c + " holds no files");
                return docs;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the corpus " + c + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("config key 'corpus': " + c + " is neither a file nor a folder");
    }

    /** The data folder when the config gives none ({@link DataDir}: -Dgpt4j.data, GPT4J_DATA, or ../shared/data). */
    static String defaultData() {
        return DataDir.resolve().toString();
    }

    /**
     * A fixed sample of the dev sets, scored with greedy schema-constrained decoding (as {@code gpt4j ask} answers
     * and as the model card's scores are measured; free decoding scored 0-2% on Spider whatever the constrained
     * score was): WikiSQL by logical form, Spider by execution. The same questions every time, spread evenly over
     * each dev set.
     */
    static final class AccuracySample {
        private final WikiSql wiki;
        private final List<WikiSqlExample> wikiEx;
        private final Spider spider;
        private final List<SpiderExample> spiderEx;

        AccuracySample(Path dataDir, TrainConfig cfg) {
            Set<String> wanted = cfg.datasetRepeats().keySet();
            long devSets = wanted.stream().filter(d -> d.equals("wikisql") || d.equals("spider")).count();
            int per = Math.max(1, cfg.accuracySample() / (int) Math.max(1, devSets));
            if (wanted.contains("wikisql") && Files.isRegularFile(dataDir.resolve("wikisql/dev.jsonl"))) {
                wiki = WikiSql.open(dataDir.resolve("wikisql"));
                wikiEx = spread(wiki.examples("dev").examples(), per);
            } else {
                wiki = null;
                wikiEx = List.of();
            }
            if (wanted.contains("spider") && Files.isRegularFile(dataDir.resolve("spider/dev.json"))) {
                spider = Spider.open(dataDir.resolve("spider"));
                List<SpiderExample> all = spider.examples("dev").stream().filter(e -> spider.hasDatabase(e.dbId())).toList();
                spiderEx = spread(all, per);
            } else {
                spider = null;
                spiderEx = List.of();
            }
        }

        static <T> List<T> spread(List<T> all, int n) {
            if (all.size() <= n) return all;
            List<T> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) out.add(all.get((int) ((long) i * all.size() / n)));
            return out;
        }

        /** {combined, wikisql, spider} accuracy (NaN where there is no sample). */
        double[] score(GptModel model, BpeTokenizer tok) {
            // no fallback beam: a sample during training measures the greedy answer alone, and quickly
            TextToSql t2s = new TextToSql(model, tok).options(new TextToSql.Options(Decoding.DEFAULT.withFallbackBeam(0), SqlRules.CONSTRAINED));
            double w = Double.NaN, s = Double.NaN;
            int correct = 0, total = 0;
            if (!wikiEx.isEmpty()) {
                ScoreReport r = Evaluator.wikiSql(t2s, wiki, "dev", wikiEx, List.of(), null);
                w = r.accuracy();
                correct += r.correct();
                total += r.scored();
            }
            if (!spiderEx.isEmpty()) {
                ScoreReport r = Evaluator.spider(t2s, spider, spiderEx, "dev", null);
                s = r.accuracy();
                correct += r.correct();
                total += r.scored();
            }
            model.train();
            return new double[] {total == 0 ? Double.NaN : (double) correct / total, w, s};
        }
    }
}
