package dev.gpt4j.benchmarks;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.KvCache;
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
 * Inference speed, batch 1, the same work as ../shared/bench/torch_gpt_bench.py's prefill_tok_s and
 * gen_cache_tok_s: {@code prefill} runs a 64-token prompt into an empty KV cache (logits of the last position
 * only); {@code generate} makes 128 new tokens greedily, one per step, after a prefill done in the set-up
 * (not timed). Tokens/s = 64 / prefill time and 128 / generate time.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar GenerationBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=12G", "--enable-native-access=ALL-UNNAMED",
        "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
public class GenerationBenchmark {
    @Param({"tiny", "small", "medium"})
    public String preset;

    /** The prompt's length in tokens (prefill's work; generation continues after it). */
    @Param({"64"})
    public int promptLength;

    static final int NEW = 128;
    GptModel model;
    KvCache cache;
    int[] prompt;

    @Setup(Level.Trial)
    public void setup() {
        GptConfig cfg = GptConfig.preset(preset);
        // a context too short for the prompt and 128 new tokens gets a longer position table, as the PyTorch script does
        cfg = cfg.withContextLength(Math.max(cfg.contextLength(), promptLength + NEW + 1));
        model = GptModel.create(cfg, 1).eval();
        cache = model.newKvCache(1);
        Random r = new Random(1);
        prompt = new int[promptLength];
        for (int i = 0; i < promptLength; i++) prompt[i] = r.nextInt(cfg.vocabSize());
    }

    /** For generate only: the prompt is in the cache before each timed part (prefill times its own). */
    @State(Scope.Thread)
    public static class Prefilled {
        int firstToken;

        @Setup(Level.Invocation)
        public void prefill(GenerationBenchmark b) {
            b.cache.reset();
            firstToken = argmax(b.model.prefill(b.cache, 0, b.prompt));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        model.close();
    }

    @Benchmark
    public int prefill() {
        cache.reset();
        return argmax(model.prefill(cache, 0, prompt));
    }

    @Benchmark
    public int generate(Prefilled p) {
        int[] tok = {p.firstToken};
        for (int i = 0; i < NEW; i++) tok[0] = argmax(model.step(cache, tok));
        return tok[0];
    }

    static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
        return best;
    }
}
