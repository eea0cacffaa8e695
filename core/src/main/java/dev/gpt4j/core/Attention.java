package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.FloatBuffer;
import java.util.function.BiConsumer;

/**
 * Causal multi-head attention from the fused projection qkv [R, 3C] (q, k, v side by side, head after head in each)
 * to y [R, C] (the heads side by side): per head, y_h = softmax(q_h k_h^T / sqrt(hs) + causal mask) v_h. The rows are
 * B blocks of T consecutive positions ({@link Rows}): a training batch, a prompt's chunk, or one new token for each of
 * B sequences. Without a KV cache a block's keys and values are its own rows, from position 0, and the probabilities
 * are kept for the backward pass; with a cache, the block's keys and values are first written into its sequence's rows
 * of the cache, after the positions already there, and each query attends to all of them up to its own position.
 *
 * <p><b>Java path.</b> Each (block, head) pair runs in Java on heap arrays, on the causal triangle only (half the work
 * of a full product): q, k, v are read out of qkv (or k^T and v out of the cache, where they are stored ready for the
 * products), the three products are chains of fused multiply-adds in a fixed order ({@link #lowerABt},
 * {@link #lowerPX}, {@link #upperTX}; {@link VectorKernels} runs several chains side by side with the same bits), and
 * the results are written back in place. The pairs split over gpt4j's fixed parts, so the bits depend neither on the
 * thread count nor on whether the Vector API is there: a run resumed in a JVM without the module ends with the same
 * weights.
 *
 * <p><b>ND4J path</b> (and the reference the Java path is tested against): ND4J's batched matmul on [3, B, H, T, hs]
 * permuted copies, softmax and softmax_bp ops; with a cache, one block at a time on slices of the cache's arrays.
 */
public final class Attention {
    private Attention() {}

    /**
     * The rows of one forward: B blocks of T new positions; block b belongs to cache sequence {@code seqs[b]} and starts
     * at position {@code starts[b]} (both null without a cache: sequences of their own, from position 0).
     */
    record Rows(int B, int T, int[] seqs, int[] starts) {
        static Rows batch(int B, int T) {
            return new Rows(B, T, null, null);
        }

        int rows() {
            return B * T;
        }

        int start(int b) {
            return starts == null ? 0 : starts[b];
        }

        /** The position of row r. */
        int position(int r) {
            return start(r / T) + r % T;
        }
    }

    /** Row stride of the [T, T] scratch and of the cache's k^T: T rounded up so that two AVX-512 vectors of columns fit. */
    static int stride(int T) {
        return (T + 31) & ~31;
    }

    // ------------------------------------------------------------------------------------------ forward, backward

    /**
     * y = attention(qkv) for {@code rows}. With a {@code cache}, the blocks' keys and values go into its layer
     * {@code layer} first (the model in evaluation mode; nothing is kept for backward). Without one, {@code saved} keeps
     * the probabilities for {@link #backward}; with {@code drop}, {@code dropout} fills saved's mask and applies it to a
     * copy of the probabilities, which then weigh v.
     */
    static void forward(Compute compute, INDArray qkv, INDArray y, Rows rows, int H, KvCache cache, int layer, Saved saved,
                        boolean drop, BiConsumer<INDArray, INDArray> dropout) {
        if (cache != null) {
            if (compute == Compute.JAVA) cachedJava(qkv, y, rows, H, cache, layer);
            else cachedNd4j(qkv, y, rows, H, cache, layer);
            return;
        }
        int B = rows.B(), T = rows.T();
        if (compute == Compute.JAVA) {
            probabilities(qkv, B, T, H, saved.prob);
            if (drop) {
                saved.dropped.assign(saved.prob);
                dropout.accept(saved.dropped, saved.mask);
            }
            mix(drop ? saved.dropped : saved.prob, qkv, B, T, H, y);
            return;
        }
        saved.nd4j.forward(qkv, y, saved, drop, dropout);
    }

    /**
     * dqkv [R, 3C] (overwritten) from dy [R, C], with the arrays {@code saved} kept by the last forward of these rows
     * (no cache). {@code drop}: whether that forward dropped.
     */
    static void backward(Compute compute, INDArray qkv, INDArray dy, Rows rows, int H, Saved saved, boolean drop, INDArray dqkv) {
        if (compute == Compute.JAVA) {
            backwardJava(qkv, saved.prob, drop ? saved.dropped : null, drop ? saved.mask : null, dy, rows.B(), rows.T(), H, dqkv);
        } else {
            saved.nd4j.backward(dy, saved, drop, dqkv);
        }
    }

    /** What a training forward keeps for its backward: the probabilities [B, H, T, T] (and after dropout, and the mask). */
    static final class Saved {
        final INDArray prob, dropped, mask;
        private final Nd4jPath nd4j;

        /** The arrays of one layer for (B, T) rows of {@code qkv} and {@code y}; a mask and a dropped copy with dropout. */
        Saved(Compute compute, INDArray qkv, INDArray y, int B, int T, int H, boolean dropout) {
            DataType dtype = qkv.dataType();
            prob = Nd4j.create(dtype, B, H, T, T);
            mask = dropout ? Nd4j.create(dtype, B, H, T, T) : null;
            dropped = dropout ? Nd4j.create(dtype, B, H, T, T) : prob;
            nd4j = compute == Compute.ND4J ? new Nd4jPath(qkv, y, B, T, H) : null;
        }
    }

    // ------------------------------------------------------------------------------------------ Java path

    /** The heap arrays of one thread for one (T, hs, Tp). */
    private static final class Work {
        final int T, hs, Tp;
        final float[] q, k, v, dy, xt, a, b, c, row, row2;

        Work(int T, int hs, int Tp) {
            this.T = T;
            this.hs = hs;
            this.Tp = Tp;
            q = new float[T * hs];
            k = new float[T * hs];
            v = new float[T * hs];
            dy = new float[T * hs];
            xt = new float[hs * Tp];
            a = new float[T * Tp];
            b = new float[T * Tp];
            c = new float[T * Tp];
            row = new float[Tp];
            row2 = new float[Tp];
        }
    }

    private static final ThreadLocal<Work> WORK = new ThreadLocal<>();

    /** This thread's arrays, kept while they are large enough (a prefill and the decode steps after it share them). */
    private static Work work(int T, int hs, int Tp) {
        Work w = WORK.get();
        if (w == null || w.T < T || w.hs != hs || w.Tp != Tp) {
            w = new Work(T, hs, Tp);
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
            Work w = work(T, hs, stride(T));
            int Tp = w.Tp;
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                readHead(fq, oq, b, h, 0, T, C, hs, w.q);
                readHead(fq, oq, b, h, 1, T, C, hs, w.k);
                transpose(w.k, T, hs, w.xt, Tp);
                lowerABt(w.q, 0, w.xt, 0, Tp, T, 0, hs, w.a, Tp);
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
            Work w = work(T, hs, stride(T));
            int Tp = w.Tp;
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                readHead(fq, oq, b, h, 2, T, C, hs, w.v);
                for (int t = 0; t < T; t++) fw.get(ow + (bh * T + t) * T, w.a, t * Tp, T);
                lowerPX(w.a, Tp, w.v, 0, T, 0, hs, w.q);
                for (int t = 0; t < T; t++) fy.put(oy + (b * T + t) * C + h * hs, w.q, t * hs, hs);
            }
        });
    }

    /**
     * The gradient through {@link #probabilities} and {@link #mix}: from dy [B*T, C] to dqkv [B*T, 3C] (overwritten).
     * {@code pd} and {@code mask} are the probabilities after dropout and the dropout mask (scaled by 1/(1-p)), or null
     * without dropout.
     */
    static void backwardJava(INDArray qkv, INDArray p, INDArray pd, INDArray mask, INDArray dy, int B, int T, int H, INDArray dqkv) {
        int C = (int) qkv.size(1) / 3, hs = C / H;
        float scale = (float) (1.0 / Math.sqrt(hs));
        boolean drop = pd != null;
        FloatBuffer fq = Kernels.buf(qkv), fp = Kernels.buf(p), fy = Kernels.buf(dy), fd = Kernels.buf(dqkv);
        FloatBuffer fpd = drop ? Kernels.buf(pd) : null, fm = drop ? Kernels.buf(mask) : null;
        int oq = (int) qkv.offset(), op = (int) p.offset(), oy = (int) dy.offset(), od = (int) dqkv.offset();
        int opd = drop ? (int) pd.offset() : 0, om = drop ? (int) mask.offset() : 0;
        Kernels.parallel(B * H, 1, (from, to) -> {
            Work w = work(T, hs, stride(T));
            int Tp = w.Tp;
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                readHead(fq, oq, b, h, 0, T, C, hs, w.q);
                readHead(fq, oq, b, h, 1, T, C, hs, w.k);
                readHead(fq, oq, b, h, 2, T, C, hs, w.v);
                for (int t = 0; t < T; t++) fy.get(oy + (b * T + t) * C + h * hs, w.dy, t * hs, hs);
                // dP = dy v^T (lower triangle), into a
                transpose(w.v, T, hs, w.xt, Tp);
                lowerABt(w.dy, 0, w.xt, 0, Tp, T, 0, hs, w.a, Tp);
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
                lowerPX(w.b, Tp, w.k, 0, T, 0, hs, w.v);
                writeHead(fd, od, b, h, 0, T, C, hs, w.v);
                upperTX(w.b, Tp, w.q, T, hs, w.v);
                writeHead(fd, od, b, h, 1, T, C, hs, w.v);
            }
        });
    }

    /** Below this much work (multiply-adds) the (block, head) pairs of a cached forward run in the calling thread. */
    private static final long INLINE_WORK = 1 << 17;

    /**
     * The cached forward on the Java path: per (block, head), the block's k (transposed) and v go into the cache after
     * the positions it holds, then its queries attend to all of the sequence's positions up to their own.
     */
    static void cachedJava(INDArray qkv, INDArray y, Rows rows, int H, KvCache cache, int layer) {
        int C = (int) qkv.size(1) / 3, hs = C / H, B = rows.B(), T = rows.T(), Tp = cache.stride();
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] kt = cache.keysT(layer), vs = cache.values(layer);
        FloatBuffer fq = Kernels.buf(qkv), fy = Kernels.buf(y);
        int oq = (int) qkv.offset(), oy = (int) y.offset();
        long work = 0;
        for (int b = 0; b < B; b++) work += (long) T * (rows.start(b) + T) * hs * 2 * H;
        Kernels.parallel(B * H, work < INLINE_WORK ? B * H : 1, (from, to) -> {
            Work w = work(T, hs, Tp);
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H, P = rows.start(b), seq = rows.seqs()[b];
                int kBase = cache.keyBase(seq, h), vBase = cache.valueBase(seq, h);
                readHead(fq, oq, b, h, 1, T, C, hs, w.k);
                for (int t = 0; t < T; t++) {
                    for (int d = 0; d < hs; d++) kt[kBase + d * Tp + P + t] = w.k[t * hs + d];
                }
                readHead(fq, oq, b, h, 2, T, C, hs, w.v);
                System.arraycopy(w.v, 0, vs, vBase + P * hs, T * hs);
                readHead(fq, oq, b, h, 0, T, C, hs, w.q);
                lowerABt(w.q, 0, kt, kBase, Tp, T, P, hs, w.a, Tp);
                float[] row = w.row;
                for (int t = 0; t < T; t++) {
                    int n = P + t + 1;
                    System.arraycopy(w.a, t * Tp, row, 0, n);
                    for (int j = 0; j < n; j++) row[j] *= scale;
                    Kernels.softmaxInPlace(row, n);
                    System.arraycopy(row, 0, w.a, t * Tp, n);
                }
                lowerPX(w.a, Tp, vs, vBase, T, P, hs, w.q);
                for (int t = 0; t < T; t++) fy.put(oy + (b * T + t) * C + h * hs, w.q, t * hs, hs);
            }
        });
    }

    /** Head h's q (which = 0), k (1) or v (2) of block b, [T, hs], out of qkv [B*T, 3C]. */
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
     * out[i, j] (row stride outTp) = sum over d &lt; hs of a[aOff + i hs + d] bt[btOff + d Tp + j], for i &lt; T and
     * j &lt;= P + i: the scores of T queries against P earlier keys and their own. Columns beyond may be written too, so
     * Tp and outTp must hold P + T rounded up to 32. Each element: acc = 0, then acc = fma(a[i, d], bt[d, j], acc) for
     * d = 0, 1, ...
     */
    static void lowerABt(float[] a, int aOff, float[] bt, int btOff, int Tp, int T, int P, int hs, float[] out, int outTp) {
        if (Kernels.vectorized()) {
            VectorKernels.lowerABt(a, aOff, bt, btOff, Tp, T, P, hs, out, outTp);
            return;
        }
        for (int i = 0; i < T; i++) {
            for (int j = 0; j <= P + i; j++) {
                float acc = 0f;
                for (int d = 0; d < hs; d++) acc = Math.fma(a[aOff + i * hs + d], bt[btOff + d * Tp + j], acc);
                out[i * outTp + j] = acc;
            }
        }
    }

    /**
     * out[i, c] = sum over j &lt;= P + i of p[i, j] x[xOff + j hs + c], for out [T, hs] and p with row stride Tp. Each
     * element: acc = 0, then acc = fma(p[i, j], x[j, c], acc) for j = 0, 1, ..., P + i.
     */
    static void lowerPX(float[] p, int Tp, float[] x, int xOff, int T, int P, int hs, float[] out) {
        if (Kernels.vectorized()) {
            VectorKernels.lowerPX(p, Tp, x, xOff, T, P, hs, out);
            return;
        }
        for (int i = 0; i < T; i++) {
            for (int c = 0; c < hs; c++) {
                float acc = 0f;
                for (int j = 0; j <= P + i; j++) acc = Math.fma(p[i * Tp + j], x[xOff + j * hs + c], acc);
                out[i * hs + c] = acc;
            }
        }
    }

    /**
     * out[j, c] = sum over i from j to T-1 of m[i, j] x[i, c]: m^T x for a lower-triangular m (row stride Tp), read down
     * its columns. Each element: acc = 0, then acc = fma(m[i, j], x[i, c], acc) for i = j, j+1, ..., T-1.
     */
    static void upperTX(float[] m, int Tp, float[] x, int T, int hs, float[] out) {
        if (Kernels.vectorized()) {
            VectorKernels.upperTX(m, Tp, x, T, hs, out);
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

    // ------------------------------------------------------------------------------------------ ND4J path

    /** The ND4J path's arrays of one layer for one (B, T), with views made once (a view per step costs native memory). */
    private static final class Nd4jPath {
        final int B, T, H, hs;
        final INDArray qkvh, q, k, v, attPre, attPreRows, mask, yh, qkvPerm, y4, yhPerm;
        // backward
        INDArray dyh, datt, dattPre, dqkvh, dq, dk, dv, dqkvhPerm, dyPerm, dqkv5, forDy, forDqkv;

        Nd4jPath(INDArray qkv, INDArray y, int B, int T, int H) {
            this.B = B;
            this.T = T;
            this.H = H;
            int C = (int) y.size(1);
            this.hs = C / H;
            DataType dtype = qkv.dataType();
            qkvh = Nd4j.create(dtype, 3, B, H, T, hs);
            q = slice(qkvh, 0);
            k = slice(qkvh, 1);
            v = slice(qkvh, 2);
            attPre = Nd4j.create(dtype, B, H, T, T);
            attPreRows = attPre.reshape('c', (long) B * H, (long) T * T);
            mask = causalMask(T, 0, dtype);
            yh = Nd4j.create(dtype, B, H, T, hs);
            qkvPerm = qkv.reshape('c', B, T, 3, H, hs).permute(2, 0, 3, 1, 4);
            y4 = y.reshape('c', B, T, H, hs);
            yhPerm = yh.permute(0, 2, 1, 3);
        }

        void forward(INDArray qkv, INDArray y, Saved s, boolean drop, BiConsumer<INDArray, INDArray> dropout) {
            // [B, T, 3, H, hs] → [3, B, H, T, hs]
            qkvh.assign(qkvPerm);
            // scores = q k^T / sqrt(hs), -inf above the diagonal, softmax
            Softmax.batchedMatmul(q, k, attPre, false, true);
            attPre.muli(1.0 / Math.sqrt(hs));
            attPreRows.addiRowVector(mask);
            Softmax.forward(attPre, s.prob);
            if (drop) {
                s.dropped.assign(s.prob);
                dropout.accept(s.dropped, s.mask);
            }
            Softmax.batchedMatmul(drop ? s.dropped : s.prob, v, yh, false, false);
            // [B, H, T, hs] → [B, T, H, hs] = [BT, C]
            y4.assign(yhPerm);
        }

        void backward(INDArray dy, Saved s, boolean drop, INDArray dqkv) {
            if (dyh == null) {
                DataType dtype = dy.dataType();
                dyh = Nd4j.create(dtype, B, H, T, hs);
                datt = Nd4j.create(dtype, B, H, T, T);
                dattPre = Nd4j.create(dtype, B, H, T, T);
                dqkvh = Nd4j.create(dtype, 3, B, H, T, hs);
                dq = slice(dqkvh, 0);
                dk = slice(dqkvh, 1);
                dv = slice(dqkvh, 2);
                dqkvhPerm = dqkvh.permute(1, 3, 0, 2, 4);
            }
            if (dy != forDy) {
                dyPerm = dy.reshape('c', B, T, H, hs).permute(0, 2, 1, 3);
                forDy = dy;
            }
            if (dqkv != forDqkv) {
                dqkv5 = dqkv.reshape('c', B, T, 3, H, hs);
                forDqkv = dqkv;
            }
            dyh.assign(dyPerm);
            Softmax.batchedMatmul(dyh, v, datt, false, true);                        // d(dropped) = dyh v^T
            Softmax.batchedMatmul(drop ? s.dropped : s.prob, dyh, dv, true, false);  // dv = dropped^T dyh
            if (drop) datt.muli(s.mask);
            Softmax.backward(attPre, datt, dattPre);
            dattPre.muli(1.0 / Math.sqrt(hs));
            Softmax.batchedMatmul(dattPre, k, dq, false, false);     // dq = datt k
            Softmax.batchedMatmul(dattPre, q, dk, true, false);      // dk = datt^T q
            dqkv5.assign(dqkvhPerm);
        }
    }

    /** [1, T * (P + T)]: 0 where query t may see key j (j &lt;= P + t), -inf elsewhere. */
    private static INDArray causalMask(int T, int P, DataType dtype) {
        int n = P + T;
        double[] m = new double[T * n];
        for (int i = 0; i < T; i++) for (int j = P + i + 1; j < n; j++) m[i * n + j] = Double.NEGATIVE_INFINITY;
        return Nd4j.createFromArray(m).castTo(dtype).reshape('c', 1, (long) T * n);
    }

    /**
     * The cached forward as ND4J ops, one block at a time: its k and v into the cache's [batch, H, Tmax, hs] arrays, then
     * softmax(q K^T / sqrt(hs) + mask) V over the sequence's first P + T positions.
     */
    static void cachedNd4j(INDArray qkv, INDArray y, Rows rows, int H, KvCache cache, int layer) {
        int C = (int) y.size(1), hs = C / H, T = rows.T();
        INDArray K = cache.keyArray(layer), V = cache.valueArray(layer);
        for (int b = 0; b < rows.B(); b++) {
            int P = rows.start(b), seq = rows.seqs()[b];
            INDArray block = qkv.get(NDArrayIndex.interval((long) b * T, (long) (b + 1) * T), NDArrayIndex.all());
            INDArray heads = block.reshape('c', T, 3, H, hs).permute(1, 2, 0, 3); // [3, H, T, hs]
            INDArrayIndex s = NDArrayIndex.point(seq), h = NDArrayIndex.all(), d = NDArrayIndex.all();
            K.get(s, h, NDArrayIndex.interval(P, P + T), d).assign(heads.get(NDArrayIndex.point(1), h, NDArrayIndex.all(), d));
            V.get(s, h, NDArrayIndex.interval(P, P + T), d).assign(heads.get(NDArrayIndex.point(2), h, NDArrayIndex.all(), d));
            INDArray q = heads.get(NDArrayIndex.point(0), h, NDArrayIndex.all(), d).dup('c');                // [H, T, hs]
            INDArray keys = K.get(s, h, NDArrayIndex.interval(0, P + T), d).dup('c');                       // [H, P+T, hs]
            INDArray vals = V.get(s, h, NDArrayIndex.interval(0, P + T), d).dup('c');
            INDArray scores = Nd4j.create(qkv.dataType(), H, T, P + T);
            Softmax.batchedMatmul(q, keys, scores, false, true);
            scores.muli(1.0 / Math.sqrt(hs));
            scores.reshape('c', H, (long) T * (P + T)).addiRowVector(causalMask(T, P, qkv.dataType()));
            INDArray probs = scores.like();
            Softmax.forward(scores, probs);
            INDArray out = Nd4j.create(qkv.dataType(), H, T, hs);
            Softmax.batchedMatmul(probs, vals, out, false, false);
            y.get(NDArrayIndex.interval((long) b * T, (long) (b + 1) * T), NDArrayIndex.all())
                    .assign(out.permute(1, 0, 2).reshape('c', T, C));
        }
    }

    private static INDArray slice(INDArray a, int i) {
        return a.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
    }
}
