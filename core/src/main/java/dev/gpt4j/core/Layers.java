package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The layers of GPT-2, each as a forward and a backward function side by side (the llm.c style). Every
 * function writes into arrays it is given (preallocated by the caller) and backward functions add into
 * parameter gradients ({@code +=}), so that tied weights and several steps of accumulation just work.
 * Shapes: B batch, T time, C channels, BT = B*T rows.
 */
public final class Layers {
    private Layers() {}

    // ------------------------------------------------------------------------------------------ Linear

    /** out[BT, O] = x[BT, I] @ w[I, O] (+ b[O]). HF GPT-2 stores Conv1D weights as [in, out], so no transpose. */
    public static void linearForward(INDArray x, INDArray w, INDArray b, INDArray out) {
        Blas.gemm(false, false, 1.0, x, w, 0.0, out);
        if (b != null) addRowVector(out, b);
    }

    /**
     * dx[BT, I] = dout @ w^T (overwritten, or added to when {@code accumulateDx}); dw[I, O] += x^T @ dout;
     * db[O] += sum over rows of dout.
     */
    public static void linearBackward(INDArray dout, INDArray x, INDArray w, INDArray dx, INDArray dw, INDArray db,
                                      boolean accumulateDx) {
        if (dx != null) Blas.gemm(false, true, 1.0, dout, w, accumulateDx ? 1.0 : 0.0, dx);
        Blas.gemm(true, false, 1.0, x, dout, 1.0, dw);
        if (db != null) addColumnSums(dout, db);
    }

    /**
     * Inverted dropout in place: mask = (u &gt;= p) / (1 - p) for u ~ U[0, 1) drawn from {@code rng}, then x *= mask;
     * the mask is kept for backward.
     */
    public static void dropout(INDArray x, INDArray mask, double p, org.nd4j.linalg.api.rng.Random rng) {
        Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.random.impl.UniformDistribution(mask, 0.0, 1.0), rng);
        mask.subi(p);
        org.nd4j.linalg.ops.transforms.Transforms.step(mask, false);
        mask.muli(1.0 / (1.0 - p));
        x.muli(mask);
    }

    /** x[N, C] += v[C] on every row. */
    static void addRowVector(INDArray x, INDArray v) {
        if (Kernels.fits(x, v) && x.rank() == 2 && x.size(1) == v.length()) Kernels.addRowVector(x, v);
        else x.addiRowVector(v);
    }

    /** out = a + b (a residual connection). */
    static void add(INDArray a, INDArray b, INDArray out) {
        if (Kernels.fits(a, b, out) && a.length() == b.length() && a.length() == out.length()) Kernels.add(a, b, out);
        else out.assign(a).addi(b);
    }

    // ------------------------------------------------------------------------------------------ column sums

    private static final java.util.Map<String, INDArray> ONES = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * target[C] += the sum over the rows of x[N, C]: in float32 by {@link Kernels#addColumnSums}, otherwise as one
     * BLAS product with a vector of ones. ND4J's own reduction over the rows gives results that depend on how many
     * threads it gets (and it gets fewer when its pool is busy), which broke bit-exact resume once in a while;
     * both ways here sum each column in one thread, so the result is the same run after run.
     */
    public static void addColumnSums(INDArray x, INDArray target) {
        if (Kernels.fits(x, target) && x.rank() == 2 && x.size(1) == target.length()) {
            // not ND4J's gemm: an sgemm with M = 1 packs all of x first, and cost 6-13x more here
            Kernels.addColumnSums(x, target);
        } else {
            long n = x.size(0);
            INDArray ones = ONES.computeIfAbsent(x.dataType() + ":" + n, k -> Nd4j.ones(x.dataType(), 1, n));
            Nd4j.gemm(ones, x, target.reshape('c', 1, target.length()), false, false, 1.0, 1.0);
        }
    }

    // ------------------------------------------------------------------------------------------ LayerNorm

    /**
     * out = (x - mean) / sqrt(var + eps) * w + b over the last axis of x[BT, C]. Saves xhat[BT, C] and
     * rstd[BT] for the backward pass ({@code mean} is scratch [BT]).
     */
    public static void layerNormForward(INDArray x, INDArray w, INDArray b, double eps, INDArray out, INDArray xhat,
                                        INDArray mean, INDArray rstd) {
        if (Kernels.fits(x, w, b, out, xhat, rstd)) Kernels.layerNormForward(x, w, b, eps, out, xhat, rstd);
        else layerNormForwardNd4j(x, w, b, eps, out, xhat, mean, rstd);
    }

    /** {@link #layerNormForward} composed of ND4J ops: the reference for the fused kernel, and the DOUBLE path. */
    static void layerNormForwardNd4j(INDArray x, INDArray w, INDArray b, double eps, INDArray out, INDArray xhat,
                                     INDArray mean, INDArray rstd) {
        x.mean(mean, 1);
        xhat.assign(x).subiColumnVector(mean);
        // rstd = 1 / sqrt(mean(xhat^2) + eps); out is scratch for xhat^2 here
        out.assign(xhat).muli(xhat);
        out.mean(rstd, 1);
        rstd.addi(eps);
        Transforms.sqrt(rstd, false);
        rstd.rdivi(1.0);
        xhat.muliColumnVector(rstd);
        out.assign(xhat).muliRowVector(w);
        if (b != null) out.addiRowVector(b);
    }

    /**
     * dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) with dxhat = dout * w (dx overwritten, or
     * added to when {@code accumulateDx}); dw += sum(dout * xhat); db += sum(dout). {@code tmp}, {@code tmp2}
     * are scratch [BT, C]; {@code rowTmp} [BT].
     */
    public static void layerNormBackward(INDArray dout, INDArray xhat, INDArray rstd, INDArray w, INDArray dx,
                                         INDArray dw, INDArray db, INDArray tmp, INDArray tmp2, INDArray rowTmp, boolean accumulateDx) {
        if (Kernels.fits(dout, xhat, rstd, w, dx, tmp)) {
            Kernels.layerNormBackward(dout, xhat, rstd, w, dx, tmp, accumulateDx);
            addColumnSums(tmp, dw);
            if (db != null) addColumnSums(dout, db);
        } else {
            layerNormBackwardNd4j(dout, xhat, rstd, w, dx, dw, db, tmp, tmp2, rowTmp, accumulateDx);
        }
    }

    /** {@link #layerNormBackward} composed of ND4J ops: the reference for the fused kernel, and the DOUBLE path. */
    static void layerNormBackwardNd4j(INDArray dout, INDArray xhat, INDArray rstd, INDArray w, INDArray dx,
                                      INDArray dw, INDArray db, INDArray tmp, INDArray tmp2, INDArray rowTmp, boolean accumulateDx) {
        // parameter gradients
        tmp.assign(dout).muli(xhat);
        addColumnSums(tmp, dw);
        if (db != null) addColumnSums(dout, db);
        // dxhat = dout * w
        tmp.assign(dout).muliRowVector(w);
        // tmp2 = xhat * mean(dxhat * xhat)
        tmp2.assign(tmp).muli(xhat);
        tmp2.mean(rowTmp, 1);
        tmp2.assign(xhat).muliColumnVector(rowTmp);
        // tmp = dxhat - mean(dxhat) - tmp2
        tmp.mean(rowTmp, 1);
        tmp.subiColumnVector(rowTmp).subi(tmp2).muliColumnVector(rstd);
        if (accumulateDx) dx.addi(tmp);
        else dx.assign(tmp);
    }

    // ------------------------------------------------------------------------------------------ GELU (tanh form)

    private static final double GELU_K = Kernels.GELU_K;

    /** out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); saves th = that tanh for backward. */
    public static void geluForward(INDArray x, INDArray out, INDArray th) {
        if (Kernels.fits(x, out, th)) Kernels.geluForward(x, out, th);
        else geluForwardNd4j(x, out, th);
    }

    /** {@link #geluForward} composed of ND4J ops: the reference for the fused kernel, and the DOUBLE path. */
    static void geluForwardNd4j(INDArray x, INDArray out, INDArray th) {
        th.assign(x).muli(x).muli(x).muli(0.044715).addi(x).muli(GELU_K);
        Transforms.tanh(th, false);
        out.assign(th).addi(1.0).muli(x).muli(0.5);
    }

    /**
     * dx = dout * (0.5 (1 + th) + 0.5 x (1 - th^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)). {@code tmp} is scratch
     * of x's shape. Overwrites dx.
     */
    public static void geluBackward(INDArray dout, INDArray x, INDArray th, INDArray dx, INDArray tmp) {
        if (Kernels.fits(dout, x, th, dx)) Kernels.geluBackward(dout, x, th, dx);
        else geluBackwardNd4j(dout, x, th, dx, tmp);
    }

    /** {@link #geluBackward} composed of ND4J ops: the reference for the fused kernel, and the DOUBLE path. */
    static void geluBackwardNd4j(INDArray dout, INDArray x, INDArray th, INDArray dx, INDArray tmp) {
        // tmp = sqrt(2/pi) * (1 + 0.134145 x^2) * 0.5 x
        tmp.assign(x).muli(x).muli(3 * 0.044715).addi(1.0).muli(x).muli(0.5 * GELU_K);
        // dx = 1 - th^2
        dx.assign(th).muli(th).rsubi(1.0);
        dx.muli(tmp);
        tmp.assign(th).addi(1.0).muli(0.5);
        dx.addi(tmp).muli(dout);
    }

    // ------------------------------------------------------------------------------------------ softmax helpers

    /** out = softmax(x) along the last axis. */
    public static void softmax(INDArray x, INDArray out) {
        Nd4j.exec(DynamicCustomOp.builder("softmax").addInputs(x).addOutputs(out).addIntegerArguments(-1).build());
    }

    /** dx = softmax'(x) applied to dout, along the last axis (x is the softmax input). */
    public static void softmaxBackward(INDArray x, INDArray dout, INDArray dx) {
        Nd4j.exec(DynamicCustomOp.builder("softmax_bp").addInputs(x, dout).addOutputs(dx).addIntegerArguments(-1).build());
    }

    /** out = a @ b over the leading batch axes, with transpose flags on the last two axes; out overwritten. */
    public static void batchedMatmul(INDArray a, INDArray b, INDArray out, boolean transA, boolean transB) {
        Nd4j.exec(DynamicCustomOp.builder("matmul").addInputs(a, b).addOutputs(out)
                .addIntegerArguments(transA ? 1 : 0, transB ? 1 : 0, 0).build());
    }
}
