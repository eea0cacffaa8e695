package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The primitives every Java kernel shares: gpt4j's worker team and its fixed split of work, access to the native
 * buffers of ND4J arrays, e^x, and row sums, dot products and maxima in a fixed order. The kernels of each layer live
 * in that layer's file (LayerNorm, Gelu, Attention, CrossEntropy, ...); the ones two layers share (a bias, a residual
 * add, column sums) live here.
 *
 * <p>Every kernel works row by row or element by element with no sums across rows, and splits its work into a fixed
 * number of parts, so its result does not depend on how many threads run it: bit-exact resume holds. Column sums
 * (parameter gradients of biases and LayerNorm weights) give each column to one thread.
 *
 * <p>Used only on the {@link Compute#JAVA} path, whose arrays are FLOAT and dense (made so by the model), views into
 * the flat parameter buffer included.
 */
final class Kernels {
    /** Work split into this many parts, whatever the threads: results never depend on them. */
    private static final int PARTS = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 16));
    /**
     * The caller runs one part itself, so the team has PARTS - 1 workers. Every thread that calls OpenBLAS keeps a
     * buffer of its own (~128 MB on this machine), so there are never more.
     */
    private static final Team TEAM = new Team(Math.max(0, PARTS - 1), "gpt4j-kernel");
    /**
     * Cached forwards (prefill, decode) running now. With more than one (model replicas on threads of their own, each
     * with a core), a forward's kernels run all their parts on its own thread: the team's worker would only take the
     * core another forward is using.
     */
    private static final AtomicInteger FORWARDS = new AtomicInteger();

    private Kernels() {}

    /** Counts a cached forward in ({@link #FORWARDS}); pair with {@link #forwardEnded}. */
    static void forwardStarted() {
        FORWARDS.incrementAndGet();
    }

    static void forwardEnded() {
        FORWARDS.decrementAndGet();
    }

    /** Whether more than one cached forward runs now: then each keeps its kernels on its own thread. */
    static boolean crowded() {
        return FORWARDS.get() > 1;
    }

    private static volatile boolean vector = Compute.VECTOR_API && Compute.VECTOR_WANTED;

    /**
     * True when the exps, GELU's tanh and the attention products run in {@link VectorKernels} (same bits as the scalar loops, ~8x faster): the JVM has the
     * Vector API module ({@code --add-modules jdk.incubator.vector}; the {@code gpt4j} script, the tests and the
     * benchmarks add it) and {@code -Dgpt4j.vector=false} was not given.
     */
    static boolean vectorized() {
        return vector;
    }

    /** Whether the JVM has the Vector API module (whether {@link #setVectorized} can turn the vector loops on). */
    static boolean vectorApiAvailable() {
        return Compute.VECTOR_API;
    }

    /** Turns the Vector API loops on (when the module is there) or off; the tests compare the two. */
    static void setVectorized(boolean on) {
        vector = on && Compute.VECTOR_API;
    }

    /** A body over the index range [from, to). */
    interface Range {
        void run(int from, int to);
    }

    /**
     * The native buffer of {@code a} as floats, from the first element of the array it views: element i of a dense
     * {@code a} is at {@code a.offset() + i} (ND4J's {@code asNio()} of a view's buffer starts at the viewed array).
     */
    static FloatBuffer buf(INDArray a) {
        return a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** Runs {@code body} over [0, n) in up to {@link #PARTS} fixed parts of at least {@code grain} indices. */
    static void parallel(int n, int grain, Range body) {
        int parts = (int) Math.min(PARTS, Math.max(1, n / Math.max(1, grain)));
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        if (crowded()) { // the same parts, on this thread
            for (int p = 0; p < parts; p++) body.run((int) ((long) n * p / parts), (int) ((long) n * (p + 1) / parts));
            return;
        }
        TEAM.run(parts, p -> body.run((int) ((long) n * p / parts), (int) ((long) n * (p + 1) / parts)));
    }

    // ------------------------------------------------------------------------------------------ exp

    static final float LOG2E = 1.4426950408889634f, LN2_HI = 0.693145751953125f, LN2_LO = 1.428606765330187e-06f;

    /**
     * e^x in float32 within 2 ulp, about five times faster than {@code Math.exp} here (which takes ~20 ns on this
     * machine's CPUs: the cross-entropy takes 16.8M of them per 'small' step). x = k ln2 + r with |r| &lt;= ln2/2
     * (Cody and Waite's two-part ln2), e^r by its Taylor series to r^7 (error under 6e-9), times 2^k built
     * in the exponent bits. 0 below -87.3 (float's normal range; -inf gives 0), +inf above 88.72; NaN stays NaN.
     */
    static float exp(float x) {
        if (x < -87.3f) return 0f;
        if (x > 88.72f) return Float.POSITIVE_INFINITY;
        // k = round(x log2 e) by the float magic number 1.5 * 2^23: adding it leaves k in the low mantissa bits
        float t = x * LOG2E + 12582912f;
        int k = Float.floatToRawIntBits(t) - 0x4B400000;
        float kf = t - 12582912f;
        float r = x - kf * LN2_HI - kf * LN2_LO;
        float p = 1f + r * (1f + r * (1f / 2 + r * (1f / 6 + r * (1f / 24 + r * (1f / 120 + r * (1f / 720 + r * (1f / 5040)))))));
        if (k > 127) return p * 2f * Float.intBitsToFloat((k - 1 + 127) << 23); // 2^128 is not a float
        return p * Float.intBitsToFloat((k + 127) << 23);
    }

    /** a[j] = {@link #exp}(a[j] - shift) for j in [0, n). */
    static void expShifted(float[] a, int n, float shift) {
        if (vector) {
            VectorKernels.expShifted(a, n, shift);
            return;
        }
        for (int j = 0; j < n; j++) a[j] = exp(a[j] - shift);
    }

    // ------------------------------------------------------------------------------------------ row reductions

    /*
     * Sums and maxima over a row with four running values, combined at the end in a fixed order: one running sum
     * waits on the add before it (4 cycles each), four keep the adder busy. The order is fixed, so the result is
     * the same on every run and thread.
     */

    /** The sum of a[0..n), in double. */
    static double sum(float[] a, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < n; i++) s0 += a[i];
        return (s0 + s1) + (s2 + s3);
    }

    /** The sum of a[i] b[i] over [0, n), in double. */
    static double dot(float[] a, float[] b, int n) {
        return dot(a, b, 0, n);
    }

    /** The sum of a[i] b[bOff + i] over [0, n), in double. */
    static double dot(float[] a, float[] b, int bOff, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[i] * b[bOff + i];
            s1 += a[i + 1] * b[bOff + i + 1];
            s2 += a[i + 2] * b[bOff + i + 2];
            s3 += a[i + 3] * b[bOff + i + 3];
        }
        for (; i < n; i++) s0 += a[i] * b[bOff + i];
        return (s0 + s1) + (s2 + s3);
    }

    /** The maximum of a[0..n) (-inf for n = 0; NaN if any is NaN). */
    static float max(float[] a, int n) {
        float m0 = Float.NEGATIVE_INFINITY, m1 = m0, m2 = m0, m3 = m0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            m0 = Math.max(m0, a[i]);
            m1 = Math.max(m1, a[i + 1]);
            m2 = Math.max(m2, a[i + 2]);
            m3 = Math.max(m3, a[i + 3]);
        }
        for (; i < n; i++) m0 = Math.max(m0, a[i]);
        return Math.max(Math.max(m0, m1), Math.max(m2, m3));
    }

    /**
     * In place over a[0..n): a = exp(a - max(a)) / sum of those, a softmax. The sum is over the rounded floats,
     * in double.
     */
    static void softmaxInPlace(float[] a, int n) {
        float max = max(a, n);
        expShifted(a, n, max);
        float inv = (float) (1.0 / sum(a, n));
        for (int j = 0; j < n; j++) a[j] *= inv;
    }

    // ------------------------------------------------------------------------------------------ column sums

    /**
     * target[C] += the sum over the rows of x[N, C], row after row in float, each column by one thread. BLAS's sgemv
     * (x^T times ones) was as fast, but OpenBLAS splits it differently with one thread than with two, and the
     * last bits of a bias gradient then depended on OMP_NUM_THREADS; ND4J's own reduction depends on its pool.
     */
    static void addColumnSums(INDArray x, INDArray target) {
        int N = (int) x.size(0), C = (int) x.size(1);
        FloatBuffer fx = buf(x), ft = buf(target);
        int ox = (int) x.offset(), ot = (int) target.offset();
        parallel(C, 64, (c0, c1) -> {
            int w = c1 - c0;
            float[] acc = new float[w], row = new float[w];
            for (int r = 0; r < N; r++) {
                fx.get(ox + r * C + c0, row, 0, w);
                for (int c = 0; c < w; c++) acc[c] += row[c];
            }
            ft.get(ot + c0, row, 0, w);
            for (int c = 0; c < w; c++) row[c] += acc[c];
            ft.put(ot + c0, row, 0, w);
        });
    }

    /** A body over [from, from + n) of a flat index range, with {@code c} scratch arrays of at least n floats. */
    interface Chunk {
        void run(int from, int n, float[][] c);
    }

    private static final int CHUNK = 4096;

    /**
     * Runs {@code body} over [0, n) in chunks of {@link #CHUNK}, split over the threads: each chunk is copied to
     * heap arrays, worked on there (where the JIT vectorizes plain loops; it does not for a FloatBuffer), and
     * copied back.
     */
    static void chunks(int n, int arrays, Chunk body) {
        parallel((n + CHUNK - 1) / CHUNK, 4, (c0, c1) -> {
            float[][] c = new float[arrays][CHUNK];
            for (int k = c0; k < c1; k++) {
                int from = k * CHUNK;
                body.run(from, Math.min(CHUNK, n - from), c);
            }
        });
    }

    // ------------------------------------------------------------------------------------------ adds

    /** out = a + b, element by element (out may be a or b). */
    static void add(INDArray a, INDArray b, INDArray out) {
        elementwise(a, b, out, false);
    }

    /** out = a * b, element by element (out may be a or b). */
    static void mul(INDArray a, INDArray b, INDArray out) {
        elementwise(a, b, out, true);
    }

    private static void elementwise(INDArray a, INDArray b, INDArray out, boolean multiply) {
        FloatBuffer fa = buf(a), fb = buf(b), fo = buf(out);
        int oa = (int) a.offset(), ob = (int) b.offset(), oo = (int) out.offset();
        chunks((int) a.length(), 2, (from, n, c) -> {
            float[] x = c[0], y = c[1];
            fa.get(oa + from, x, 0, n);
            fb.get(ob + from, y, 0, n);
            if (multiply) for (int i = 0; i < n; i++) x[i] *= y[i];
            else for (int i = 0; i < n; i++) x[i] += y[i];
            fo.put(oo + from, x, 0, n);
        });
    }

    /** x[N, C] += v[C] on every row (a bias), in place. */
    static void addRowVector(INDArray x, INDArray v) {
        int N = (int) x.size(0), C = (int) x.size(1);
        FloatBuffer fx = buf(x);
        float[] vs = read(v);
        int ox = (int) x.offset();
        parallel(N, 16, (from, to) -> {
            float[] row = new float[C];
            for (int r = from; r < to; r++) {
                fx.get(ox + r * C, row, 0, C);
                for (int c = 0; c < C; c++) row[c] += vs[c];
                fx.put(ox + r * C, row, 0, C);
            }
        });
    }

    /** A small dense array (a LayerNorm's weights, a bias) copied to the heap. */
    static float[] read(INDArray a) {
        float[] out = new float[(int) a.length()];
        buf(a).get((int) a.offset(), out, 0, out.length);
        return out;
    }
}
