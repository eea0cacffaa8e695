package dev.gpt4j.core;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * Causal multi-head attention in pieces. Always used: the scale, the causal mask and the softmax as one Java pass
 * over the lower triangle of each row of [B, H, T, T], and its backward the same way (ND4J's softmax_bp over all of
 * [B, H, T, T] cost more than the four products of the layer).
 *
 * <p>Off by default (see {@link #available}): the products on the fused projection qkv[B*T, 3C] as it is. Each
 * (batch, head) pair's q, k and v are matrices with row stride 3C inside it, which CBLAS takes as they are
 * ({@link Blas#gemm} with a leading dimension), so there are no permuted copies in or out; y[B*T, C] and the
 * gradient dqkv[B*T, 3C] are written in place the same way.
 *
 * <p>Every output element is written by one BLAS call or one row pass, so the result does not depend on the
 * number of threads. Attention dropout, when the model has it, is applied by the caller between
 * {@link #probabilities} and {@link #mix}.
 */
final class CausalAttention {
    private CausalAttention() {}

    /**
     * The per-head BLAS products are off unless {@code -Dgpt4j.attention=blas}; by default {@link HeadAttention}
     * runs (as fast, and its own arithmetic), and with {@code -Dgpt4j.attention=nd4j} ND4J's batched matmul on
     * permuted copies (the row passes {@link #softmaxRows} and {@link #softmaxBackwardRows} serve that one).
     * Sessions 5 and 6 kept them off because stopped and resumed runs sometimes ended with other weights (8 of 93
     * in session 5). Session 8 found the cause outside attention: ND4J's scatter_add in the embedding backward
     * lost token 0's gradient row now and then (see GptModel's embeddingBackward), with these products and with
     * HeadAttention alike (76 and 114 of 3,000 repeated steps differed before the fix, none after). They stay off
     * because HeadAttention is as fast without calling native code from two threads.
     */
    private static volatile boolean on = "blas".equalsIgnoreCase(System.getProperty("gpt4j.attention"));

    static boolean available() {
        return on && Blas.available();
    }

    /** Turns this path on or off (the tests compare it with ND4J's). */
    static void setEnabled(boolean enabled) {
        on = enabled;
    }

    /** P[b, h, t, :] = softmax over j &lt;= t of q_t . k_j / sqrt(hs), zero for j &gt; t; into p [B, H, T, T]. */
    static void probabilities(INDArray qkv, int B, int T, int H, INDArray p) {
        int C = (int) qkv.size(1) / 3, hs = C / H;
        float scale = (float) (1.0 / Math.sqrt(hs));
        Blas.split(B * H, 1, (from, to) -> {
            for (int bh0 = from; bh0 < to; bh0++) {
                int b = bh0 / H, h = bh0 % H;
                long bh = bh0;
                Blas.gemm(false, true, T, T, hs, scale, head(qkv, b, h, 0, T, C, hs), 3 * C, head(qkv, b, h, 1, T, C, hs), 3 * C,
                        0f, Blas.pointer(p, bh * T * T), T);
            }
        });
        softmaxRows(p, 1f, T, p);
    }

    /**
     * out[r, :] = softmax over j &lt;= t of scale * scores[r, j], zero for j &gt; t, where t = r mod T: the causal
     * softmax over rows of [B, H, T, T] arrays (out may be scores).
     */
    static void softmaxRows(INDArray scores, float scale, int T, INDArray out) {
        FloatBuffer fs = Kernels.buf(scores), fo = Kernels.buf(out);
        int os = (int) scores.offset(), oo = (int) out.offset();
        Kernels.parallel((int) (scores.length() / T), 64, (from, to) -> {
            float[] row = new float[T];
            for (int r = from; r < to; r++) {
                int t = r % T, n = t + 1;
                fs.get(os + r * T, row, 0, n);
                if (scale != 1f) for (int j = 0; j < n; j++) row[j] *= scale;
                Kernels.softmaxInPlace(row, n);
                java.util.Arrays.fill(row, n, T, 0f);
                fo.put(oo + r * T, row, 0, T);
            }
        });
    }

    /** y[b*T + t, h*hs:(h+1)*hs] = sum over j of w[b, h, t, j] v_j, with w = P (or P after dropout). */
    static void mix(INDArray w, INDArray qkv, int B, int T, int H, INDArray y) {
        int C = (int) qkv.size(1) / 3, hs = C / H;
        Blas.split(B * H, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                Blas.gemm(false, false, T, hs, T, 1f, Blas.pointer(w, (long) bh * T * T), T, head(qkv, b, h, 2, T, C, hs), 3 * C,
                        0f, Blas.pointer(y, (long) b * T * C + (long) h * hs), C);
            }
        });
    }

    /**
     * The gradient through {@link #probabilities} and {@link #mix}: from dy [B*T, C] to dqkv [B*T, 3C]
     * (overwritten). {@code pd} and {@code mask} are the probabilities after dropout and the dropout mask
     * (scaled by 1/(1-p)), or null without dropout; {@code ds} [B, H, T, T] is scratch.
     */
    static void backward(INDArray qkv, INDArray p, INDArray pd, INDArray mask, INDArray dy, int B, int T, int H, INDArray ds,
                         INDArray dqkv) {
        int C = (int) qkv.size(1) / 3, hs = C / H;
        float scale = (float) (1.0 / Math.sqrt(hs));
        boolean drop = pd != null;
        Blas.split(B * H, 1, (from, to) -> {
            for (int bh0 = from; bh0 < to; bh0++) {
                int b = bh0 / H, h = bh0 % H;
                long bh = bh0;
                FloatPointer dyh = Blas.pointer(dy, (long) b * T * C + (long) h * hs);
                // dP = dy v^T ; dv = Pd^T dy
                Blas.gemm(false, true, T, T, hs, 1f, dyh, C, head(qkv, b, h, 2, T, C, hs), 3 * C, 0f, Blas.pointer(ds, bh * T * T), T);
                Blas.gemm(true, false, T, hs, T, 1f, Blas.pointer(drop ? pd : p, bh * T * T), T, dyh, C, 0f, head(dqkv, b, h, 2, T, C, hs), 3 * C);
            }
        });
        softmaxBackwardRows(p, ds, mask, scale, T, ds);
        Blas.split(B * H, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                FloatPointer dsh = Blas.pointer(ds, (long) bh * T * T);
                // dq = dS k ; dk = dS^T q
                Blas.gemm(false, false, T, hs, T, 1f, dsh, T, head(qkv, b, h, 1, T, C, hs), 3 * C, 0f, head(dqkv, b, h, 0, T, C, hs), 3 * C);
                Blas.gemm(true, false, T, hs, T, 1f, dsh, T, head(qkv, b, h, 0, T, C, hs), 3 * C, 0f, head(dqkv, b, h, 1, T, C, hs), 3 * C);
            }
        });
    }

    /**
     * dS = P (dP' - sum(P dP')) * scale on the lower triangle of rows of [B, H, T, T] arrays, zero above, with
     * dP' = dP * mask (the dropout mask, or null): the gradient through {@link #softmaxRows} (ds may be dp).
     */
    static void softmaxBackwardRows(INDArray p, INDArray dp, INDArray mask, float scale, int T, INDArray ds) {
        boolean drop = mask != null;
        FloatBuffer fp = Kernels.buf(p), fd = Kernels.buf(dp), fs = Kernels.buf(ds), fm = drop ? Kernels.buf(mask) : null;
        int op = (int) p.offset(), od = (int) dp.offset(), os = (int) ds.offset(), om = drop ? (int) mask.offset() : 0;
        Kernels.parallel((int) (p.length() / T), 64, (from, to) -> {
            float[] pr = new float[T], dr = new float[T], mr = drop ? new float[T] : null;
            for (int r = from; r < to; r++) {
                int t = r % T, n = t + 1;
                fp.get(op + r * T, pr, 0, n);
                fd.get(od + r * T, dr, 0, n);
                if (drop) {
                    fm.get(om + r * T, mr, 0, n);
                    for (int j = 0; j < n; j++) dr[j] *= mr[j];
                }
                float dt = (float) Kernels.dot(pr, dr, n);
                for (int j = 0; j < n; j++) dr[j] = pr[j] * (dr[j] - dt) * scale;
                java.util.Arrays.fill(dr, n, T, 0f);
                fs.put(os + r * T, dr, 0, T);
            }
        });
    }

    /** Head h's q (which = 0), k (1) or v (2) of batch row b inside a [B*T, 3C] array: [T, hs] with row stride 3C. */
    private static FloatPointer head(INDArray qkv, int b, int h, int which, int T, int C, int hs) {
        return Blas.pointer(qkv, (long) b * T * 3 * C + (long) which * C + (long) h * hs);
    }
}
