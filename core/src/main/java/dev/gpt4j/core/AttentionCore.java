package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.function.BiConsumer;

/**
 * Causal multi-head attention from the fused projection qkv [B*T, 3C] to y [B*T, C], and back, for one (B, T) shape:
 * the arrays and the steps of one layer. {@link GptModel} keeps one per layer and {@link CausalSelfAttention} one.
 *
 * <p>Three paths. FLOAT arrays take {@link HeadAttention} (head by head in Java, on the lower triangle) by default.
 * {@code -Dgpt4j.attention=nd4j}, and DOUBLE arrays, take ND4J's batched matmul on [3, B, H, T, hs] permuted
 * copies (its arrays are made on first use). {@code -Dgpt4j.attention=blas} takes {@link CausalAttention}'s per-head
 * BLAS products on qkv in place (see there why that is off).
 */
final class AttentionCore {
    final int B, T, C, H, hs;
    final INDArray qkv, y;
    /** Softmax probabilities [B, H, T, T]; after dropout in attDrop (the same array without dropout). */
    final INDArray attProb, attDrop, attMask;
    private final DataType dtype;
    // ND4J path, made on first use
    private INDArray qkvh, q, k, v, attPre, yh, qkvPerm, attPreRows, y4, yhPerm, causalMask;

    /**
     * @param qkv     the input [B*T, 3C] (q, k, v side by side, head after head in each)
     * @param y       the output [B*T, C], the heads side by side
     * @param dropout whether the model has attention dropout (then the mask and the dropped probabilities get arrays)
     */
    AttentionCore(INDArray qkv, INDArray y, int B, int T, int H, boolean dropout) {
        this.B = B;
        this.T = T;
        this.C = (int) y.size(1);
        this.H = H;
        this.hs = C / H;
        this.qkv = qkv;
        this.y = y;
        this.dtype = qkv.dataType();
        attProb = Nd4j.create(dtype, B, H, T, T);
        attMask = dropout ? Nd4j.create(dtype, B, H, T, T) : null;
        attDrop = dropout ? Nd4j.create(dtype, B, H, T, T) : attProb;
    }

    private boolean blas() {
        return CausalAttention.available() && Kernels.fits(qkv, attProb, attDrop, y);
    }

    private boolean heads() {
        return HeadAttention.enabled() && Kernels.fits(qkv, attProb, attDrop, y, attMask);
    }

    /**
     * y = attention(qkv). With {@code drop}, {@code dropout} fills attMask and applies it to attDrop (a copy of the
     * probabilities), which then weighs v.
     */
    void forward(boolean drop, BiConsumer<INDArray, INDArray> dropout) {
        boolean blas = blas();
        if (blas || heads()) {
            if (blas) CausalAttention.probabilities(qkv, B, T, H, attProb);
            else HeadAttention.probabilities(qkv, B, T, H, attProb);
            if (drop) {
                attDrop.assign(attProb);
                dropout.accept(attDrop, attMask);
            }
            if (blas) CausalAttention.mix(drop ? attDrop : attProb, qkv, B, T, H, y);
            else HeadAttention.mix(drop ? attDrop : attProb, qkv, B, T, H, y);
            return;
        }
        nd4jArrays();
        // [B, T, 3, H, hs] → [3, B, H, T, hs]
        qkvh.assign(qkvPerm);
        // scores = q k^T / sqrt(hs), -inf above the diagonal
        Layers.batchedMatmul(q, k, attPre, false, true);
        if (Kernels.fits(attPre, attProb)) {
            // one pass over the lower triangle instead of scale, mask and ND4J's softmax over all of [B, H, T, T]
            CausalAttention.softmaxRows(attPre, (float) (1.0 / Math.sqrt(hs)), T, attProb);
        } else {
            attPre.muli(1.0 / Math.sqrt(hs));
            attPreRows.addiRowVector(causalMask);
            Layers.softmax(attPre, attProb);
        }
        if (drop) {
            attDrop.assign(attProb);
            dropout.accept(attDrop, attMask);
        }
        Layers.batchedMatmul(drop ? attDrop : attProb, v, yh, false, false);
        // [B, H, T, hs] → [B, T, H, hs] = [BT, C]
        y4.assign(yhPerm);
    }

    /** dqkv [B*T, 3C] (overwritten) from dy [B*T, C], with the arrays of the last {@link #forward}. */
    void backward(INDArray dy, boolean drop, Scratch s, INDArray dqkv) {
        if (blas() && Kernels.fits(dy, s.dattPre(), dqkv, attMask)) {
            CausalAttention.backward(qkv, attProb, drop ? attDrop : null, drop ? attMask : null, dy, B, T, H, s.dattPre(), dqkv);
            return;
        }
        if (heads() && Kernels.fits(dy, dqkv)) {
            HeadAttention.backward(qkv, attProb, drop ? attDrop : null, drop ? attMask : null, dy, B, T, H, dqkv);
            return;
        }
        nd4jArrays();
        s.nd4jArrays(dy, dqkv);
        s.dyh.assign(s.dyPerm);
        Layers.batchedMatmul(s.dyh, v, s.datt, false, true);                         // d(attDrop) = dyh v^T
        Layers.batchedMatmul(drop ? attDrop : attProb, s.dyh, s.dv, true, false);    // dv = attDrop^T dyh
        if (Kernels.fits(attProb, s.datt, attMask, s.dattPre())) {
            // ND4J's softmax_bp over [B, H, T, T] cost more than the four products here
            CausalAttention.softmaxBackwardRows(attProb, s.datt, drop ? attMask : null, (float) (1.0 / Math.sqrt(hs)), T, s.dattPre());
        } else {
            if (drop) s.datt.muli(attMask);
            Layers.softmaxBackward(attPre, s.datt, s.dattPre());
            s.dattPre().muli(1.0 / Math.sqrt(hs));
        }
        Layers.batchedMatmul(s.dattPre(), k, s.dq, false, false);     // dq = datt k
        Layers.batchedMatmul(s.dattPre(), q, s.dk, true, false);      // dk = datt^T q
        s.dqkv5.assign(s.dqkvhPerm);
    }

    private void nd4jArrays() {
        if (qkvh != null) return;
        qkvh = Nd4j.create(dtype, 3, B, H, T, hs);
        q = slice(qkvh, 0);
        k = slice(qkvh, 1);
        v = slice(qkvh, 2);
        attPre = Nd4j.create(dtype, B, H, T, T);
        yh = Nd4j.create(dtype, B, H, T, hs);
        // Views, made once: a view made in every step costs native shape buffers every step.
        qkvPerm = qkv.reshape('c', B, T, 3, H, hs).permute(2, 0, 3, 1, 4);
        attPreRows = attPre.reshape('c', (long) B * H, (long) T * T);
        y4 = y.reshape('c', B, T, H, hs);
        yhPerm = yh.permute(0, 2, 1, 3);
        double[] m = new double[T * T];
        for (int i = 0; i < T; i++) for (int j = i + 1; j < T; j++) m[i * T + j] = Double.NEGATIVE_INFINITY;
        causalMask = Nd4j.createFromArray(m).castTo(dtype).reshape('c', 1, (long) T * T);
    }

    private static INDArray slice(INDArray a, int i) {
        return a.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
    }

    /** Backward scratch for one (B, T) shape, shared by the layers (they run backward one after the other). */
    static final class Scratch {
        private final int B, T, H, hs;
        private final DataType dtype;
        private INDArray dattPre;
        // ND4J path, made on first use
        private INDArray dyh, datt, dqkvh, dq, dk, dv, dyPerm, dqkv5, dqkvhPerm, forDy, forDqkv;

        Scratch(int B, int T, int C, int H, DataType dtype) {
            this.B = B;
            this.T = T;
            this.H = H;
            this.hs = C / H;
            this.dtype = dtype;
        }

        /** The gradient before the softmax [B, H, T, T], for the ND4J and BLAS paths (the Java heads need none). */
        INDArray dattPre() {
            if (dattPre == null) dattPre = Nd4j.create(dtype, B, H, T, T);
            return dattPre;
        }

        private void nd4jArrays(INDArray dy, INDArray dqkv) {
            if (dyh == null) {
                dyh = Nd4j.create(dtype, B, H, T, hs);
                datt = Nd4j.create(dtype, B, H, T, T);
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
        }
    }
}
