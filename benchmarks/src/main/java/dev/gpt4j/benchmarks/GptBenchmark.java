package dev.gpt4j.benchmarks;

import dev.gpt4j.core.AdamW;
import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
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

    static final int BATCH = 8;
    GptModel model;
    AdamW opt;
    int[] tokens, targets;
    int T;

    @Setup(Level.Trial)
    public void setup() {
        GptConfig cfg = GptConfig.preset(preset);
        T = cfg.contextLength();
        model = GptModel.create(cfg, 1);
        opt = new AdamW(model.params(), 0.1);
        Random r = new Random(1);
        tokens = new int[BATCH * T];
        targets = new int[BATCH * T];
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
        return model.forward(tokens, targets, BATCH, T);
    }

    @Benchmark
    public double forwardBackward() {
        double loss = model.forward(tokens, targets, BATCH, T);
        model.zeroGrad();
        model.backward();
        return loss;
    }

    @Benchmark
    public double trainStep() {
        double loss = model.forward(tokens, targets, BATCH, T);
        model.zeroGrad();
        model.backward();
        opt.step(1e-4);
        return loss;
    }
}
