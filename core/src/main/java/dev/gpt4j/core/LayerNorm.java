package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.FloatBuffer;

/**
 * LayerNorm over the last axis of x [N, C]: out = (x - mean) / sqrt(var + eps) * w + b (GPT-2: eps = 1e-5; ND4J's own
 * layer_norm has eps = 0, which gives NaN on a constant row). Forward and backward side by side, each as a Java kernel
 * (one pass over a row) and as ND4J ops (the reference, and the {@link Compute#ND4J} path).
 */
public final class LayerNorm {
    private LayerNorm() {}

    /**
     * out = xhat * w + b with xhat = (x - mean) * rstd; saves xhat [N, C] and rstd [N] for the backward pass
     * ({@code mean} [N] is scratch for the ND4J path). b may be null.
     */
    public static void forward(Compute compute, INDArray x, INDArray w, INDArray b, double eps, INDArray out, INDArray xhat,
                               INDArray mean, INDArray rstd) {
        if (compute == Compute.JAVA) forwardJava(x, w, b, eps, out, xhat, rstd);
        else forwardNd4j(x, w, b, eps, out, xhat, mean, rstd);
    }

    /**
     * dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) with dxhat = dout * w (dx overwritten, or added to
     * when {@code accumulateDx}); dw += sum(dout * xhat); db += sum(dout) (dw, db null: none). {@code tmp}, {@code tmp2} are scratch [N, C],
     * {@code rowTmp} [N].
     */
    public static void backward(Compute compute, INDArray dout, INDArray xhat, INDArray rstd, INDArray w, INDArray dx,
                                INDArray dw, INDArray db, INDArray tmp, INDArray tmp2, INDArray rowTmp, boolean accumulateDx) {
        if (compute == Compute.JAVA) {
            backwardJava(dout, xhat, rstd, w, dx, tmp, accumulateDx);
            if (dw != null) Kernels.addColumnSums(tmp, dw);
            if (db != null) Kernels.addColumnSums(dout, db);
        } else {
            backwardNd4j(dout, xhat, rstd, w, dx, dw, db, tmp, tmp2, rowTmp, accumulateDx);
        }
    }

    // ------------------------------------------------------------------------------------------ Java kernels

    /** Row by row: the mean and variance in double (four running sums, a fixed order), the rest in float. */
    static void forwardJava(INDArray x, INDArray w, INDArray b, double eps, INDArray out, INDArray xhat, INDArray rstd) {
        int N = (int) x.size(0), C = (int) x.size(1);
        FloatBuffer fx = Kernels.buf(x), fo = Kernels.buf(out), fh = Kernels.buf(xhat), fr = Kernels.buf(rstd);
        float[] ws = Kernels.read(w), bs = b == null ? new float[C] : Kernels.read(b);
        int ox = (int) x.offset(), oo = (int) out.offset(), oh = (int) xhat.offset(), orr = (int) rstd.offset();
        Kernels.parallel(N, 16, (from, to) -> {
            float[] xs = new float[C];
            for (int r = from; r < to; r++) {
                fx.get(ox + r * C, xs, 0, C);
                float mean = (float) (Kernels.sum(xs, C) / C);
                for (int c = 0; c < C; c++) xs[c] -= mean;
                double var = Kernels.dot(xs, xs, C);
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
     * Row by row: dx as in {@link #backward}, overwriting dx or adding to it; also writes doutXhat = dout * xhat, whose
     * column sums are the weight's gradient.
     */
    static void backwardJava(INDArray dout, INDArray xhat, INDArray rstd, INDArray w, INDArray dx, INDArray doutXhat,
                             boolean accumulateDx) {
        int N = (int) dout.size(0), C = (int) dout.size(1);
        FloatBuffer fd = Kernels.buf(dout), fh = Kernels.buf(xhat), fr = Kernels.buf(rstd), fx = Kernels.buf(dx), fp = Kernels.buf(doutXhat);
        float[] ws = Kernels.read(w);
        int od = (int) dout.offset(), oh = (int) xhat.offset(), orr = (int) rstd.offset(), ox = (int) dx.offset(), op = (int) doutXhat.offset();
        Kernels.parallel(N, 16, (from, to) -> {
            float[] g = new float[C], h = new float[C], dh = new float[C], acc = new float[C];
            for (int r = from; r < to; r++) {
                fd.get(od + r * C, g, 0, C);
                fh.get(oh + r * C, h, 0, C);
                for (int c = 0; c < C; c++) dh[c] = g[c] * ws[c];
                double s1 = Kernels.sum(dh, C), s2 = Kernels.dot(dh, h, C);
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

    // ------------------------------------------------------------------------------------------ ND4J reference

    static void forwardNd4j(INDArray x, INDArray w, INDArray b, double eps, INDArray out, INDArray xhat, INDArray mean,
                            INDArray rstd) {
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

    static void backwardNd4j(INDArray dout, INDArray xhat, INDArray rstd, INDArray w, INDArray dx, INDArray dw, INDArray db,
                             INDArray tmp, INDArray tmp2, INDArray rowTmp, boolean accumulateDx) {
        // parameter gradients (none for a frozen base)
        if (dw != null) {
            tmp.assign(dout).muli(xhat);
            Linear.addColumnSums(Compute.ND4J, tmp, dw);
        }
        if (db != null) Linear.addColumnSums(Compute.ND4J, dout, db);
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
}
