package dev.gpt4j.benchmarks;

import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.core.quant.QuantizedMatrix;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * One linear layer's product y = x Wᵀ on one thread, for each stored weight format, on the 'medium' preset's
 * shapes (C = 384): the attention's qkv (384→1152) and output (384→384) projections, the MLP's up (384→1536) and
 * down (1536→384) projections and the LM head (384→16384). R = 1 is a generation step (memory-bound: what counts
 * is the bytes per weight streamed), R = 64 a prompt (compute-bound).
 *
 * <ul>
 *   <li>{@code f32}: a plain Java float loop, the reference for what the formats' own loops cost;</li>
 *   <li>{@code f32_sgemv}: OpenBLAS on one thread, as the model's F32 path calls it (W stored [in, out] as HF's
 *       Conv1D, {@code cblas_sgemv} with TRANS for R = 1, {@code cblas_sgemm} for R = 64);</li>
 *   <li>{@code f16}, {@code q8_0}, {@code q4_0}, {@code nf4} (double-quantized, as QLoRA stores its base):
 *       {@link QuantizedMatrix#matmul} over all rows.</li>
 * </ul>
 * One matrix is small enough to stay in the last-level cache (all but the LM head's 25 MB in F32), so R = 1 here
 * measures cache bandwidth; a whole model's weights stream from memory.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar QuantBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=12G", "--enable-native-access=ALL-UNNAMED",
        "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class QuantBenchmark {
    /** in × out features. */
    @Param({"384x1152", "384x384", "384x1536", "1536x384", "384x16384"})
    public String shape;

    @Param({"f32", "f32_sgemv", "f16", "q8_0", "q4_0", "nf4"})
    public String type;

    @Param({"1", "64"})
    public int R;

    int in, out;
    float[] w, x, y;
    QuantizedMatrix q;
    FloatPointer pw, px, py;

    @Setup
    public void setup() {
        String[] s = shape.split("x");
        in = Integer.parseInt(s[0]);
        out = Integer.parseInt(s[1]);
        Random r = new Random(1);
        w = new float[out * in]; // [out, in], as a linear layer's weight
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
        x = new float[R * in];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        y = new float[R * out];
        switch (type) {
            case "f32" -> { }
            case "f32_sgemv" -> {
                // OpenBLAS's thread count is process-wide and ND4J's setMaxThreads sets it (as core's Blas does)
                Nd4j.factory().blas().setMaxThreads(1);
                float[] t = new float[in * out]; // [in, out]: HF's Conv1D layout, which the model hands to sgemv
                for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) t[i * out + o] = w[o * in + i];
                pw = new FloatPointer(t);
                px = new FloatPointer(x);
                py = new FloatPointer(y.length);
            }
            default -> {
                QuantType t = QuantType.parse(type);
                q = QuantizedMatrix.quantize(t, w, out, in, t == QuantType.NF4);
                if (!QuantizedMatrix.vectorized()) throw new IllegalStateException("the Vector API kernels are off");
            }
        }
    }

    @TearDown
    public void tearDown() {
        if (pw != null) {
            pw.close();
            px.close();
            py.close();
        }
    }

    @Benchmark
    public float matmul() {
        switch (type) {
            case "f32" -> plain();
            case "f32_sgemv" -> {
                if (R == 1) openblas_nolapack.cblas_sgemv(101, 112, in, out, 1f, pw, out, px, 1, 0f, py, 1);
                else openblas_nolapack.cblas_sgemm(101, 111, 111, R, out, in, 1f, px, in, pw, out, 0f, py, out);
                return py.get(0);
            }
            default -> q.matmul(x, R, y, 0, out);
        }
        return y[0];
    }

    private void plain() {
        for (int r = 0; r < R; r++) {
            for (int o = 0; o < out; o++) {
                float s = 0f;
                int wo = o * in, xo = r * in;
                for (int i = 0; i < in; i++) s += w[wo + i] * x[xo + i];
                y[r * out + o] = s;
            }
        }
    }

    /**
     * The products of one generated token of the whole 'medium' model (6 layers × qkv, output, MLP up and down, then
     * the LM head: 10.6M weights, 42 MB in F32 before the 25 MB head), each matrix a separate array as in a model.
     * Unlike one matrix, these do not all fit in the cache in F32, which is the situation the floor "Q8_0 generation
     * at least as fast as F32" is about. Attention, LayerNorm and the rest of a step are not included.
     */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=12G", "--enable-native-access=ALL-UNNAMED",
            "--add-modules", "jdk.incubator.vector"})
    @Warmup(iterations = 3, time = 2)
    @Measurement(iterations = 5, time = 2)
    public static class Token {
        @Param({"f32_sgemv", "f16", "q8_0", "q4_0", "nf4"})
        public String type;

        static final int C = 384, LAYERS = 6, V = 16384;
        int[] ins, outs;
        QuantizedMatrix[] q;
        FloatPointer[] pw;
        float[] x = new float[4 * C], y = new float[V];
        FloatPointer px, py;

        @Setup
        public void setup() {
            int n = LAYERS * 4 + 1;
            ins = new int[n];
            outs = new int[n];
            for (int l = 0; l < LAYERS; l++) {
                int[][] shapes = {{C, 3 * C}, {C, C}, {C, 4 * C}, {4 * C, C}};
                for (int k = 0; k < 4; k++) {
                    ins[4 * l + k] = shapes[k][0];
                    outs[4 * l + k] = shapes[k][1];
                }
            }
            ins[n - 1] = C;
            outs[n - 1] = V;
            Random r = new Random(2);
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            if (type.equals("f32_sgemv")) {
                Nd4j.factory().blas().setMaxThreads(1);
                pw = new FloatPointer[n];
                px = new FloatPointer(x);
                py = new FloatPointer(V);
            } else {
                q = new QuantizedMatrix[n];
            }
            for (int m = 0; m < n; m++) {
                float[] w = new float[ins[m] * outs[m]];
                for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
                if (pw != null) pw[m] = new FloatPointer(w); // [in, out] or [out, in] streams the same bytes
                else q[m] = QuantizedMatrix.quantize(QuantType.parse(type), w, outs[m], ins[m], type.equals("nf4"));
            }
        }

        @TearDown
        public void tearDown() {
            if (pw != null) {
                for (FloatPointer p : pw) p.close();
                px.close();
                py.close();
            }
        }

        @Benchmark
        public float token() {
            for (int m = 0; m < ins.length; m++) {
                if (pw != null) openblas_nolapack.cblas_sgemv(101, 112, ins[m], outs[m], 1f, pw[m], outs[m], px, 1, 0f, py, 1);
                else q[m].matmul(x, 1, y, 0, outs[m]);
            }
            return pw != null ? py.get(0) : y[0];
        }
    }
}
