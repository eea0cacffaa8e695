package dev.gpt4j.benchmarks;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
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
 * The four products of one transformer layer of the shipped model ('small': x[rows, 256] times weights [256, 768],
 * [256, 256], [256, 1024] and [1024, 256], row-major [in, out] as gpt4j stores them) for a decoding step's few rows,
 * the two ways OpenBLAS can do them: one {@code cblas_sgemm} per weight ({@code sgemm}), or one {@code cblas_sgemv}
 * per row and weight ({@code sgemv}, what gpt4j does below 16 rows). With {@code blasThreads} 2 OpenBLAS keeps its own
 * two threads, as a decoding step with one model thread; with 1 it runs on the caller's thread alone, as each of
 * {@code serve}'s two model threads does. The sgemm packs the whole weight for every call, which costs more than the
 * multiplying at these sizes.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar FewRowProducts [-p blasThreads=1]</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FewRowProducts {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static final int[][] SHAPES = {{256, 768}, {256, 256}, {256, 1024}, {1024, 256}};

    @Param({"1", "4", "8", "15"})
    public int rows;

    @Param({"2", "1"})
    public int blasThreads;

    private final INDArray[] keep = new INDArray[3 * SHAPES.length];
    private final FloatPointer[] w = new FloatPointer[SHAPES.length], x = new FloatPointer[SHAPES.length], y = new FloatPointer[SHAPES.length];

    @Setup(Level.Trial)
    public void setup() {
        Nd4j.getRandom().setSeed(1);
        Nd4j.factory().blas().setMaxThreads(blasThreads); // OPENBLAS_NUM_THREADS has no effect: ND4J sets the count at start
        for (int k = 0; k < SHAPES.length; k++) {
            int in = SHAPES[k][0], out = SHAPES[k][1];
            keep[3 * k] = Nd4j.rand(DataType.FLOAT, in, out);
            keep[3 * k + 1] = Nd4j.rand(DataType.FLOAT, rows, in);
            keep[3 * k + 2] = Nd4j.create(DataType.FLOAT, rows, out);
            w[k] = new FloatPointer(keep[3 * k].data().addressPointer());
            x[k] = new FloatPointer(keep[3 * k + 1].data().addressPointer());
            y[k] = new FloatPointer(keep[3 * k + 2].data().addressPointer());
        }
    }

    @Benchmark
    public float sgemm() {
        for (int k = 0; k < SHAPES.length; k++) {
            int in = SHAPES[k][0], out = SHAPES[k][1];
            openblas_nolapack.cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, rows, out, in, 1f, x[k], in, w[k], out, 0f, y[k], out);
        }
        return y[0].get(0);
    }

    @Benchmark
    public float sgemv() {
        for (int k = 0; k < SHAPES.length; k++) {
            int in = SHAPES[k][0], out = SHAPES[k][1];
            for (int r = 0; r < rows; r++) {
                openblas_nolapack.cblas_sgemv(ROW_MAJOR, TRANS, in, out, 1f, w[k], out, x[k].position((long) r * in), 1, 0f,
                        y[k].position((long) r * out), 1);
            }
            x[k].position(0);
            y[k].position(0);
        }
        return y[0].get(0);
    }
}
