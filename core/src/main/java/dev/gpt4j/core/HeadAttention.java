package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * Causal multi-head attention head by head in Java, the default for FLOAT arrays: each (batch, head) pair's q, k
 * and v are copied out of the fused projection qkv [B*T, 3C] into heap arrays, its four products (two forward, four
 * backward in all) are computed there on the lower triangle only (causal attention needs no more: half the work of
 * a BLAS product), and the results are written back in place: y [B*T, C], dqkv [B*T, 3C]. The pairs are split over
 * {@link Kernels#parallel}'s fixed parts, so no native library is called from two threads.
 *
 * <p>Every output element is one chain of fused multiply-adds in a fixed order (see the three product methods), and
 * the Vector API loops ({@link VectorHeads}, when the JVM has the module) only run several chains side by side. So
 * the bits depend neither on the thread count nor on whether the Vector API is there: a run resumed in a JVM
 * without the module ends with the same weights. {@code -Dgpt4j.attention=nd4j} turns this off (ND4J's batched
 * matmul on permuted copies instead).
 */
final class HeadAttention {
    private static volatile boolean on = !"nd4j".equalsIgnoreCase(System.getProperty("gpt4j.attention"));

    /** Row stride of the [T, T] scratch: T rounded up so that two AVX-512 vectors of columns always fit. */
    static int stride(int T) {
        return (T + 31) & ~31;
    }

    private HeadAttention() {}

    static boolean enabled() {
        return on;
    }

    /** Turns this path on or off (the tests compare it with ND4J's). */
    static void setEnabled(boolean enabled) {
        on = enabled;
    }

    /** The heap arrays of one thread for one (T, hs). */
    private static final class Work {
        final int T, hs, Tp;
        final float[] q, k, v, dy, xt, a, b, c, row, row2;

        Work(int T, int hs) {
            this.T = T;
            this.hs = hs;
            this.Tp = stride(T);
            q = new float[T * hs];
            k = new float[T * hs];
            v = new float[T * hs];
            dy = new float[T * hs];
            xt = new float[hs * Tp];
            a = new float[T * Tp];
            b = new float[T * Tp];
            c = new float[T * Tp];
            row = new float[T];
            row2 = new float[T];
        }
    }

    private static final ThreadLocal<Work> WORK = new ThreadLocal<>();

    private static Work work(int T, int hs) {
        Work w = WORK.get();
        if (w == null || w.T != T || w.hs != hs) {
            w = new Work(T, hs);
            WORK.set(w);
        }
        return w;
    }

    /** P[b, h, t, :] = softmax over j &lt;= t of q_t . k_j / sqrt(hs), zero for j &gt; t; into p [B, H, T, T]. */
    static void probabilities(INDArray qkv, int B, int T, int H, INDArray p) {
        int C = (int) qkv.size(1) / 3, hs = C / H;
        float scale = (float) (1.0 / Math.sqrt(hs));
        FloatBuffer fq = Kernels.buf(qkv), fp = Kernels.buf(p);
        int oq = (int) qkv.offset(), op = (int) p.offset();
        Kernels.parallel(B * H, 1, (from, to) -> {
            Work w = work(T, hs);
            int Tp = w.Tp;
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                readHead(fq, oq, b, h, 0, T, C, hs, w.q);
                readHead(fq, oq, b, h, 1, T, C, hs, w.k);
                transpose(w.k, T, hs, w.xt, Tp);
                lowerABt(w.q, w.xt, T, hs, Tp, w.a);
                float[] row = w.row;
                for (int t = 0; t < T; t++) {
                    int n = t + 1;
                    System.arraycopy(w.a, t * Tp, row, 0, n);
                    for (int j = 0; j < n; j++) row[j] *= scale;
                    Kernels.softmaxInPlace(row, n);
                    java.util.Arrays.fill(row, n, T, 0f);
                    fp.put(op + (bh * T + t) * T, row, 0, T);
                }
            }
        });
    }

    /** y[b*T + t, h*hs:(h+1)*hs] = sum over j &lt;= t of w[b, h, t, j] v_j, with w = P (or P after dropout). */
    static void mix(INDArray weights, INDArray qkv, int B, int T, int H, INDArray y) {
        int C = (int) qkv.size(1) / 3, hs = C / H;
        FloatBuffer fq = Kernels.buf(qkv), fw = Kernels.buf(weights), fy = Kernels.buf(y);
        int oq = (int) qkv.offset(), ow = (int) weights.offset(), oy = (int) y.offset();
        Kernels.parallel(B * H, 1, (from, to) -> {
            Work w = work(T, hs);
            int Tp = w.Tp;
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                readHead(fq, oq, b, h, 2, T, C, hs, w.v);
                for (int t = 0; t < T; t++) fw.get(ow + (bh * T + t) * T, w.a, t * Tp, T);
                lowerPX(w.a, Tp, w.v, T, hs, w.q);
                for (int t = 0; t < T; t++) fy.put(oy + (b * T + t) * C + h * hs, w.q, t * hs, hs);
            }
        });
    }

    /**
     * The gradient through {@link #probabilities} and {@link #mix}: from dy [B*T, C] to dqkv [B*T, 3C]
     * (overwritten). {@code pd} and {@code mask} are the probabilities after dropout and the dropout mask (scaled by
     * 1/(1-p)), or null without dropout.
     */
    static void backward(INDArray qkv, INDArray p, INDArray pd, INDArray mask, INDArray dy, int B, int T, int H, INDArray dqkv) {
        int C = (int) qkv.size(1) / 3, hs = C / H;
        float scale = (float) (1.0 / Math.sqrt(hs));
        boolean drop = pd != null;
        FloatBuffer fq = Kernels.buf(qkv), fp = Kernels.buf(p), fy = Kernels.buf(dy), fd = Kernels.buf(dqkv);
        FloatBuffer fpd = drop ? Kernels.buf(pd) : null, fm = drop ? Kernels.buf(mask) : null;
        int oq = (int) qkv.offset(), op = (int) p.offset(), oy = (int) dy.offset(), od = (int) dqkv.offset();
        int opd = drop ? (int) pd.offset() : 0, om = drop ? (int) mask.offset() : 0;
        Kernels.parallel(B * H, 1, (from, to) -> {
            Work w = work(T, hs);
            int Tp = w.Tp;
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                readHead(fq, oq, b, h, 0, T, C, hs, w.q);
                readHead(fq, oq, b, h, 1, T, C, hs, w.k);
                readHead(fq, oq, b, h, 2, T, C, hs, w.v);
                for (int t = 0; t < T; t++) fy.get(oy + (b * T + t) * C + h * hs, w.dy, t * hs, hs);
                // dP = dy v^T (lower triangle), into a
                transpose(w.v, T, hs, w.xt, Tp);
                lowerABt(w.dy, w.xt, T, hs, Tp, w.a);
                // dv = Pd^T dy: Pd into c, the product into v (v is not needed any more)
                for (int t = 0; t < T; t++) (drop ? fpd : fp).get((drop ? opd : op) + (bh * T + t) * T, w.c, t * Tp, T);
                upperTX(w.c, Tp, w.dy, T, hs, w.v);
                writeHead(fd, od, b, h, 2, T, C, hs, w.v);
                // dS = P (dP' - sum(P dP')) * scale with dP' = dP * mask, row by row into b (zero above the diagonal)
                float[] pr = w.row, mr = w.row2;
                for (int t = 0; t < T; t++) {
                    int n = t + 1, at = t * Tp;
                    fp.get(op + (bh * T + t) * T, pr, 0, n);
                    if (drop) {
                        fm.get(om + (bh * T + t) * T, mr, 0, n);
                        for (int j = 0; j < n; j++) w.a[at + j] *= mr[j];
                    }
                    float dt = (float) Kernels.dot(pr, w.a, at, n);
                    for (int j = 0; j < n; j++) w.b[at + j] = pr[j] * (w.a[at + j] - dt) * scale;
                    java.util.Arrays.fill(w.b, at + n, at + T, 0f);
                }
                // dq = dS k ; dk = dS^T q
                lowerPX(w.b, Tp, w.k, T, hs, w.v);
                writeHead(fd, od, b, h, 0, T, C, hs, w.v);
                upperTX(w.b, Tp, w.q, T, hs, w.v);
                writeHead(fd, od, b, h, 1, T, C, hs, w.v);
            }
        });
    }

    /** Head h's q (which = 0), k (1) or v (2) of batch row b, [T, hs], out of qkv [B*T, 3C]. */
    private static void readHead(FloatBuffer qkv, int off, int b, int h, int which, int T, int C, int hs, float[] out) {
        int base = off + b * T * 3 * C + which * C + h * hs;
        for (int t = 0; t < T; t++) qkv.get(base + t * 3 * C, out, t * hs, hs);
    }

    private static void writeHead(FloatBuffer qkv, int off, int b, int h, int which, int T, int C, int hs, float[] in) {
        int base = off + b * T * 3 * C + which * C + h * hs;
        for (int t = 0; t < T; t++) qkv.put(base + t * 3 * C, in, t * hs, hs);
    }

    /** xt[d, t] (row stride Tp) = x[t, d] for x [T, hs]. */
    private static void transpose(float[] x, int T, int hs, float[] xt, int Tp) {
        for (int t = 0; t < T; t++) for (int d = 0; d < hs; d++) xt[d * Tp + t] = x[t * hs + d];
    }

    /**
     * out[i, j] (row stride Tp) = sum over d &lt; hs of a[i, d] bt[d, j], for j &lt;= i; columns above the diagonal
     * may be written too. Each element: acc = 0, then acc = fma(a[i, d], bt[d, j], acc) for d = 0, 1, ...
     */
    static void lowerABt(float[] a, float[] bt, int T, int hs, int Tp, float[] out) {
        if (Kernels.vectorized()) {
            VectorHeads.lowerABt(a, bt, T, hs, Tp, out);
            return;
        }
        for (int i = 0; i < T; i++) {
            for (int j = 0; j <= i; j++) {
                float acc = 0f;
                for (int d = 0; d < hs; d++) acc = Math.fma(a[i * hs + d], bt[d * Tp + j], acc);
                out[i * Tp + j] = acc;
            }
        }
    }

    /**
     * out[i, c] = sum over j &lt;= i of p[i, j] x[j, c] for x, out [T, hs] and p with row stride Tp. Each element:
     * acc = 0, then acc = fma(p[i, j], x[j, c], acc) for j = 0, 1, ..., i.
     */
    static void lowerPX(float[] p, int Tp, float[] x, int T, int hs, float[] out) {
        if (Kernels.vectorized()) {
            VectorHeads.lowerPX(p, Tp, x, T, hs, out);
            return;
        }
        for (int i = 0; i < T; i++) {
            for (int c = 0; c < hs; c++) {
                float acc = 0f;
                for (int j = 0; j <= i; j++) acc = Math.fma(p[i * Tp + j], x[j * hs + c], acc);
                out[i * hs + c] = acc;
            }
        }
    }

    /**
     * out[j, c] = sum over i from j to T-1 of m[i, j] x[i, c]: m^T x for a lower-triangular m (row stride Tp), read
     * down its columns. Each element: acc = 0, then acc = fma(m[i, j], x[i, c], acc) for i = j, j+1, ..., T-1.
     */
    static void upperTX(float[] m, int Tp, float[] x, int T, int hs, float[] out) {
        if (Kernels.vectorized()) {
            VectorHeads.upperTX(m, Tp, x, T, hs, out);
            return;
        }
        for (int j = 0; j < T; j++) {
            for (int c = 0; c < hs; c++) {
                float acc = 0f;
                for (int i = j; i < T; i++) acc = Math.fma(m[i * Tp + j], x[i * hs + c], acc);
                out[j * hs + c] = acc;
            }
        }
    }
}
