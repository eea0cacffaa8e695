package dev.gpt4j.benchmarks;

import dev.gpt4j.core.CausalSelfAttention;
import dev.gpt4j.core.GptConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The attention block alone ({@link CausalSelfAttention}: c_attn, causal multi-head attention, c_proj) at the
 * shapes of one layer of the 'tiny', 'small' and 'medium' configs (batch 8, full context, float32, no dropout):
 * one forward, and one forward+backward. The PyTorch side is benchmarks/python/torch_attention_bench.py, the
 * same block and work.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar AttentionBenchmark -p preset=small</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=12G", "--enable-native-access=ALL-UNNAMED",
        "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
public class AttentionBenchmark {
    @Param({"tiny", "small", "medium"})
    public String preset;

    static final int BATCH = 8;
    CausalSelfAttention att;
    INDArray x, dout;
    int T;

    @Setup(Level.Trial)
    public void setup() {
        GptConfig cfg = GptConfig.preset(preset);
        T = cfg.contextLength();
        att = new CausalSelfAttention(cfg.embedDim(), cfg.heads(), 0.0, cfg.bias(), DataType.FLOAT, 1);
        Nd4j.getRandom().setSeed(1);
        x = Nd4j.randn(DataType.FLOAT, (long) BATCH * T, cfg.embedDim());
        dout = Nd4j.randn(DataType.FLOAT, (long) BATCH * T, cfg.embedDim());
    }

    @Benchmark
    public INDArray forward() {
        return att.forward(x, BATCH, T);
    }

    @Benchmark
    public INDArray forwardBackward() {
        att.forward(x, BATCH, T);
        return att.backward(dout);
    }
}
