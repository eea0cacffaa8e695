package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Fused float32 kernels in plain Java on the native buffers of ND4J arrays: each does in one pass over memory
 * what the ND4J composition in {@link Layers} does in five to eleven (GELU, LayerNorm, the cross-entropy over
 * [rows, V], AdamW). On two cores those passes, each an OpenMP region of its own, cost more than the matrix
 * products of the same layer (BENCHMARKS.md has the profile).
 *
 * <p>Every kernel works row by row or element by element with no sums across rows, and splits its work into
 * a fixed number of parts, so its result does not depend on how many threads run it: bit-exact resume holds.
 * Column sums (parameter gradients of biases and LayerNorm weights) give each column to one thread.
 *
 * <p>Used for FLOAT arrays with dense row-major layout ({@link #fits}); DOUBLE arrays (the finite-difference
 * gradient checks) take the ND4J composition, which the tests compare these kernels against. The system
 * property {@code gpt4j.kernels=false} turns them off (to compare the two in a benchmark).
 */
final class Kernels {
    private static volatile boolean enabled = !"false".equalsIgnoreCase(System.getProperty("gpt4j.kernels"));
    /** Work split into this many parts, whatever the pool's current size: results never depend on it. */
    private static final int PARTS = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), 16));
    private static final ForkJoinPool POOL = new ForkJoinPool(PARTS, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("gpt4j-kernel-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }, null, false);
    static final double GELU_K = Math.sqrt(2 / Math.PI);

    private Kernels() {}

    /** jdk.incubator.vector is in the boot layer (the JVM was started with --add-modules jdk.incubator.vector). */
    private static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    private static volatile boolean vector = VECTOR_API && !"false".equalsIgnoreCase(System.getProperty("gpt4j.vector"));

    /**
     * True when the exps run in {@link VectorMath} (same bits as the scalar loops, ~8x faster): the JVM has the
     * Vector API module ({@code --add-modules jdk.incubator.vector}; the {@code gpt4j} script, the tests and the
     * benchmarks add it) and {@code -Dgpt4j.vector=false} was not given.
     */
    static boolean vectorized() {
        return vector;
    }

    /** Whether the JVM has the Vector API module (whether {@link #setVectorized} can turn the vector loops on). */
    static boolean vectorApiAvailable() {
        return VECTOR_API;
    }

    /** Turns the Vector API loops on (when the module is there) or off; the tests compare the two. */
    static void setVectorized(boolean on) {
        vector = on && VECTOR_API;
    }

    /** A body over the index range [from, to). */
    interface Range {
        void run(int from, int to);
    }

    /** Turns the kernels on or off (the tests compare both paths on one model). */
    static void setEnabled(boolean on) {
        enabled = on;
    }

    /**
     * True when the kernels may run on these arrays: enabled, every array FLOAT with the default row-major
     * strides of its shape (a dense block from its offset; nulls are skipped).
     */
    static boolean fits(INDArray... arrays) {
        if (!enabled) return false;
        for (INDArray a : arrays) {
            if (a == null) continue;
            if (a.dataType() != DataType.FLOAT || a.ordering() != 'c' || !Shape.hasDefaultStridesForShape(a)) return false;
            if (a.data().length() > Integer.MAX_VALUE) return false; // a FloatBuffer's index is an int
        }
        return true;
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
        if (parts == 1 || ForkJoinTask.inForkJoinPool()) {
            body.run(0, n);
            return;
        }
        ForkJoinTask<?>[] rest = new ForkJoinTask<?>[parts - 1];
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) n * p / parts), to = (int) ((long) n * (p + 1) / parts);
            rest[p - 1] = POOL.submit(() -> body.run(from, to));
        }
        body.run(0, (int) ((long) n / parts));
        for (ForkJoinTask<?> t : rest) t.join();
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
            VectorMath.expShifted(a, n, shift);
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

    // ------------------------------------------------------------------------------------------ GELU

    /** tanh(sqrt(2/pi) (x + 0.044715 x^3)) as 1 - 2 / (e^(2u) + 1): exact at the extremes (e^(2u) = inf gives 1). */
    static float geluTanh(float x) {
        float u = (float) GELU_K * (x + 0.044715f * x * x * x);
        return 1f - 2f / (exp(2 * u) + 1f);
    }

    /** th[i] = {@link #geluTanh}(x[i]) for i in [0, n). */
    static void geluTanh(float[] x, float[] th, int n) {
        if (vector) {
            VectorMath.geluTanh(x, th, n);
            return;
        }
        for (int i = 0; i < n; i++) th[i] = geluTanh(x[i]);
    }

    /** out = 0.5 x (1 + th), th = {@link #geluTanh}(x) saved for backward; all [n] dense. */
    static void geluForward(INDArray x, INDArray out, INDArray th) {
        FloatBuffer fx = buf(x), fo = buf(out), ft = buf(th);
        int ox = (int) x.offset(), oo = (int) out.offset(), ot = (int) th.offset();
        chunks((int) x.length(), 2, (from, n, c) -> {
            float[] xs = c[0], ts = c[1];
            fx.get(ox + from, xs, 0, n);
            geluTanh(xs, ts, n);
            ft.put(ot + from, ts, 0, n);
            for (int i = 0; i < n; i++) xs[i] = 0.5f * xs[i] * (1f + ts[i]);
            fo.put(oo + from, xs, 0, n);
        });
    }

    private static final float GK = (float) GELU_K, GK3 = (float) (3 * 0.044715 * GELU_K);

    /** dx = dout * (0.5 (1 + th) + 0.5 x (1 - th^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)); dx overwritten. */
    static void geluBackward(INDArray dout, INDArray x, INDArray th, INDArray dx) {
        FloatBuffer fd = buf(dout), fx = buf(x), ft = buf(th), fr = buf(dx);
        int od = (int) dout.offset(), ox = (int) x.offset(), ot = (int) th.offset(), or = (int) dx.offset();
        chunks((int) x.length(), 3, (from, n, c) -> {
            float[] ds = c[0], xs = c[1], ts = c[2];
            fd.get(od + from, ds, 0, n);
            fx.get(ox + from, xs, 0, n);
            ft.get(ot + from, ts, 0, n);
            for (int i = 0; i < n; i++) {
                float v = xs[i], t = ts[i];
                ds[i] *= 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * (GK + GK3 * v * v);
            }
            fr.put(or + from, ds, 0, n);
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
        FloatBuffer fa = buf(a), fb = buf(b), fo = buf(out);
        int oa = (int) a.offset(), ob = (int) b.offset(), oo = (int) out.offset();
        chunks((int) a.length(), 2, (from, n, c) -> {
            float[] x = c[0], y = c[1];
            fa.get(oa + from, x, 0, n);
            fb.get(ob + from, y, 0, n);
            for (int i = 0; i < n; i++) x[i] += y[i];
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

    // ------------------------------------------------------------------------------------------ LayerNorm

    /** Row-wise LayerNorm of x[N, C]: out = xhat * w + b; saves xhat [N, C] and rstd [N]. b may be null. */
    static void layerNormForward(INDArray x, INDArray w, INDArray b, double eps, INDArray out, INDArray xhat, INDArray rstd) {
        int N = (int) x.size(0), C = (int) x.size(1);
        FloatBuffer fx = buf(x), fo = buf(out), fh = buf(xhat), fr = buf(rstd);
        float[] ws = read(w), bs = b == null ? new float[C] : read(b);
        int ox = (int) x.offset(), oo = (int) out.offset(), oh = (int) xhat.offset(), orr = (int) rstd.offset();
        parallel(N, 16, (from, to) -> {
            float[] xs = new float[C];
            for (int r = from; r < to; r++) {
                fx.get(ox + r * C, xs, 0, C);
                float mean = (float) (sum(xs, C) / C);
                for (int c = 0; c < C; c++) xs[c] -= mean;
                double var = dot(xs, xs, C);
                float rs = (float) (1.0 / Math.sqrt(var / C + eps));
                fr.put(orr + r, rs);
                for (int c = 0; c < C; c++) xs[c] *= rs;
                fh.put(oh + r * C, xs, 0, C);
                for (int c = 0; c < C; c++) xs[c] = xs[c] * ws[c] + bs[c];
                fo.put(oo + r * C, xs, 0, C);
            }
        });
    }

    /**
     * Row-wise LayerNorm backward: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dout * w,
     * overwriting dx or adding to it; also writes doutXhat = dout * xhat (for the weight gradient's column sums).
     */
    static void layerNormBackward(INDArray dout, INDArray xhat, INDArray rstd, INDArray w, INDArray dx, INDArray doutXhat,
                                  boolean accumulateDx) {
        int N = (int) dout.size(0), C = (int) dout.size(1);
        FloatBuffer fd = buf(dout), fh = buf(xhat), fr = buf(rstd), fx = buf(dx), fp = buf(doutXhat);
        float[] ws = read(w);
        int od = (int) dout.offset(), oh = (int) xhat.offset(), orr = (int) rstd.offset(), ox = (int) dx.offset(), op = (int) doutXhat.offset();
        parallel(N, 16, (from, to) -> {
            float[] g = new float[C], h = new float[C], dh = new float[C], acc = new float[C];
            for (int r = from; r < to; r++) {
                fd.get(od + r * C, g, 0, C);
                fh.get(oh + r * C, h, 0, C);
                for (int c = 0; c < C; c++) dh[c] = g[c] * ws[c];
                double s1 = sum(dh, C), s2 = dot(dh, h, C);
                for (int c = 0; c < C; c++) g[c] *= h[c];
                fp.put(op + r * C, g, 0, C);
                float m1 = (float) (s1 / C), m2 = (float) (s2 / C), rs = fr.get(orr + r);
                for (int c = 0; c < C; c++) dh[c] = (dh[c] - m1 - h[c] * m2) * rs;
                if (accumulateDx) {
                    fx.get(ox + r * C, acc, 0, C);
                    for (int c = 0; c < C; c++) dh[c] += acc[c];
                }
                fx.put(ox + r * C, dh, 0, C);
            }
        });
    }

    /** A small dense array (a LayerNorm's weights) copied to the heap. */
    private static float[] read(INDArray a) {
        float[] out = new float[(int) a.length()];
        buf(a).get((int) a.offset(), out, 0, out.length);
        return out;
    }

    // ------------------------------------------------------------------------------------------ cross-entropy

    /**
     * Per row r of logits[R, V]: rowMax[r] = max, probs[r, :] = exp(logits - max) (unnormalised), rowSum[r] = their
     * sum (accumulated in double).
     */
    static void softmaxRows(INDArray logits, INDArray probs, INDArray rowMax, INDArray rowSum) {
        int R = (int) logits.size(0), V = (int) logits.size(1);
        FloatBuffer fl = buf(logits), fp = buf(probs), fm = buf(rowMax), fs = buf(rowSum);
        int ol = (int) logits.offset(), op = (int) probs.offset(), om = (int) rowMax.offset(), os = (int) rowSum.offset();
        parallel(R, 4, (from, to) -> {
            float[] row = new float[V];
            for (int r = from; r < to; r++) {
                fl.get(ol + r * V, row, 0, V);
                float max = max(row, V);
                expShifted(row, V, max);
                fp.put(op + r * V, row, 0, V);
                fm.put(om + r, max);
                fs.put(os + r, (float) sum(row, V));
            }
        });
    }

    /**
     * In place over probs[R, V] from {@link #softmaxRows}: probs = (probs / rowSum - onehot(target)) * weight, the
     * gradient of sum(weight * nll) with respect to the logits.
     */
    static void crossEntropyBackward(INDArray probs, INDArray rowSum, int[] targets, float[] weights) {
        int R = (int) probs.size(0), V = (int) probs.size(1);
        FloatBuffer fp = buf(probs), fs = buf(rowSum);
        int op = (int) probs.offset(), os = (int) rowSum.offset();
        parallel(R, 4, (from, to) -> {
            float[] row = new float[V];
            for (int r = from; r < to; r++) {
                fp.get(op + r * V, row, 0, V);
                float w = weights[r], scale = w / fs.get(os + r);
                for (int j = 0; j < V; j++) row[j] *= scale;
                row[targets[r]] -= w;
                fp.put(op + r * V, row, 0, V);
            }
        });
    }

    // ------------------------------------------------------------------------------------------ AdamW

    /**
     * One AdamW update over flat p, g, m, v and the 0/1 decay mask, element by element, with
     * {@code torch.optim.AdamW}'s arithmetic: p -= lr wd mask p; m, v updated; p -= lr / bc1 * m / (sqrt(v / bc2) + eps).
     */
    static void adamW(INDArray p, INDArray g, INDArray m, INDArray v, INDArray mask, double lr, double beta1, double beta2,
                      double eps, double weightDecay, double bc1, double bc2) {
        FloatBuffer fp = buf(p), fg = buf(g), fm = buf(m), fv = buf(v), fk = buf(mask);
        int opp = (int) p.offset(), og = (int) g.offset(), om = (int) m.offset(), ov = (int) v.offset(), ok = (int) mask.offset();
        float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2);
        float decay = (float) (lr * weightDecay), step = (float) (lr / bc1), invBc2 = (float) (1.0 / bc2), e = (float) eps;
        chunks((int) p.length(), 5, (from, n, c) -> {
            float[] ps = c[0], gs = c[1], ms = c[2], vs = c[3], ks = c[4];
            fp.get(opp + from, ps, 0, n);
            fg.get(og + from, gs, 0, n);
            fm.get(om + from, ms, 0, n);
            fv.get(ov + from, vs, 0, n);
            fk.get(ok + from, ks, 0, n);
            for (int i = 0; i < n; i++) {
                float gi = gs[i];
                float mi = b1 * ms[i] + c1 * gi;
                float vi = b2 * vs[i] + c2 * gi * gi;
                ms[i] = mi;
                vs[i] = vi;
                float pi = ps[i];
                pi -= pi * ks[i] * decay;
                ps[i] = pi - step * mi / ((float) Math.sqrt(vi * invBc2) + e);
            }
            fm.put(om + from, ms, 0, n);
            fv.put(ov + from, vs, 0, n);
            fp.put(opp + from, ps, 0, n);
        });
    }
}
