package dev.gpt4j.benchmarks;

import dev.gpt4j.core.AdamW;
import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.LoraAdapter;
import dev.gpt4j.core.LoraConfig;
import dev.gpt4j.core.quant.QuantType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One forward (with the loss), one forward+backward, and one full training step (forward, backward, AdamW) of
 * the 'tiny', 'small' and 'medium' configs (tied head, float32, batch 8, full context), on random tokens, the
 * same work as ../shared/bench/torch_gpt_bench.py's train_tok_s. Tokens/s = B*T / (seconds per op).
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar GptBenchmark -p preset=small</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=12G", "--enable-native-access=ALL-UNNAMED",
        "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
public class GptBenchmark {
    @Param({"tiny", "small", "medium"})
    public String preset;

    /**
     * Share of the positions that carry loss: 1 is pretraining (and PyTorch's script); fine-tuning puts loss on
     * the SQL only, about a quarter of a text-to-SQL example, and the model skips the LM head on the rest.
     */
    @Param({"1.0"})
    public double lossFraction;

    /**
     * What trains: {@code full} (every weight), {@code lora} (issue #22's recipe: r 16, alpha 16, dropout 0.05 on
     * c_attn and attn.c_proj over the frozen float32 base) or {@code qlora_nf4} (the same over the base's linear
     * weights stored as double-quantized NF4).
     */
    @Param({"full"})
    public String tune;

    static final String LORA = "r=16,alpha=16,dropout=0.05,targets=c_attn,attn.c_proj";
    static final int BATCH = 8;
    /** Rows of a step (main: batch=N; JMH: 8). */
    int batch = BATCH;
    /** Positions of a row (main: seq=N; 0: the context length). */
    int seqLen;
    /**
     * A saved model to start from (main: model=DIR), loaded as the commands load it: {@code finetune}
     * in full with {@link GptModel#load}, an adapter's base frozen with {@link GptModel#loadFrozen} (QLoRA: packed as
     * read). Empty: a model made in memory.
     */
    String modelDir = "";
    GptModel model;
    AdamW opt;
    long trained;
    int[] tokens, targets;
    int T;

    @Setup(Level.Trial)
    public void setup() {
        GptConfig cfg = GptConfig.preset(preset);
        T = seqLen > 0 ? Math.min(seqLen, cfg.contextLength()) : cfg.contextLength();
        java.nio.file.Path dir = java.nio.file.Path.of(modelDir);
        boolean fromFile = !modelDir.isEmpty();
        model = !fromFile ? GptModel.create(cfg, 1)
                : tune.equals("full") ? GptModel.load(dir)
                : GptModel.loadFrozen(dir, tune.equals("qlora_nf4") ? QuantType.NF4 : null);
        switch (tune) {
            case "full" -> {
                opt = new AdamW(model.params(), 0.1);
                trained = model.params().values().length();
            }
            case "lora", "qlora_nf4" -> {
                LoraAdapter a = LoraAdapter.create(LoraConfig.parse(LORA), cfg, preset, 1);
                model.addAdapter("bench", a);
                model.setActiveAdapter("bench");
                model.freezeBase();
                if (tune.equals("qlora_nf4")) model.storeWeightsAs(QuantType.NF4, true);
                opt = new AdamW(a.params(), 0.1);
                trained = a.params().values().length();
            }
            default -> throw new IllegalArgumentException("tune is full, lora or qlora_nf4, not " + tune);
        }
        Random r = new Random(1);
        tokens = new int[batch * T];
        targets = new int[batch * T];
        int prompt = (int) Math.round(T * (1 - lossFraction)); // the first positions of each row: a prompt
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(cfg.vocabSize());
            targets[i] = i % T < prompt ? GptModel.IGNORE : r.nextInt(cfg.vocabSize());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }

    @Benchmark
    public double forward() {
        return model.forward(tokens, targets, batch, T);
    }

    @Benchmark
    public double forwardBackward() {
        double loss = model.forward(tokens, targets, batch, T);
        model.zeroGrad();
        model.backward();
        return loss;
    }

    @Benchmark
    public double trainStep() {
        double loss = model.forward(tokens, targets, batch, T);
        model.zeroGrad();
        model.backward();
        opt.step(1e-4);
        return loss;
    }

    /**
     * Step time and peak memory of one configuration in a process of its own (JMH's fork shares its JVM between
     * iterations, so its RSS says little): {@code PRESET TUNE STEPS}. Prints the median step time after 3 warm-up
     * steps and the process's peak resident set (VmHWM), which includes the model, the activations, the optimizer's
     * moments and ND4J's native buffers. Options: {@code batch=N seq=N} (default 8 and the context length; for the
     * 124M model, whose weights rather than its activations fill the memory at a small batch), {@code loss=F} (the
     * share of positions with loss, {@link #lossFraction}; default 1) and {@code model=DIR} (load the model as the
     * commands do, {@link #modelDir}; the first run writes a random one there).
     * <pre>java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.gpt4j.benchmarks.GptBenchmark medium lora 20</pre>
     */
    public static void main(String[] args) throws Exception {
        GptBenchmark b = new GptBenchmark();
        b.preset = args[0];
        b.tune = args[1];
        int steps = Integer.parseInt(args[2]);
        b.lossFraction = 1.0;
        for (int i = 3; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            if (kv.length != 2) throw new IllegalArgumentException("options are batch=N, seq=N, loss=F, model=DIR; not " + args[i]);
            switch (kv[0]) {
                case "batch" -> b.batch = Integer.parseInt(kv[1]);
                case "seq" -> b.seqLen = Integer.parseInt(kv[1]);
                case "loss" -> b.lossFraction = Double.parseDouble(kv[1]);
                case "model" -> b.modelDir = kv[1];
                default -> throw new IllegalArgumentException("options are batch=N, seq=N, loss=F, model=DIR; not " + args[i]);
            }
        }
        if (!b.modelDir.isEmpty() && !java.nio.file.Files.exists(java.nio.file.Path.of(b.modelDir))) {
            try (GptModel m = GptModel.create(GptConfig.preset(b.preset), 1)) {
                m.save(java.nio.file.Path.of(b.modelDir));
            }
            System.out.println("wrote a random " + b.preset + " model to " + b.modelDir + "; run again to measure");
            return;
        }
        b.setup();
        for (int i = 0; i < 3; i++) b.trainStep();
        double[] ms = new double[steps];
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            b.trainStep();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        java.util.Arrays.sort(ms);
        String hwm = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmHWM")).findFirst().orElse("VmHWM: ?").replaceAll("\\s+", " ");
        System.out.printf("%s %s (loss on %.2f of the positions): median step %.1f ms (min %.1f, max %.1f, %d steps of %d x %d tokens), trained %,d parameters, %s%n",
                b.preset, b.tune, b.lossFraction, ms[steps / 2], ms[0], ms[steps - 1], steps, b.batch, b.T, b.trained, hwm);
        b.tearDown();
    }
}
