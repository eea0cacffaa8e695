package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.FloatBuffer;

/**
 * GELU in GPT-2's tanh form, out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), element by element; ND4J's
 * {@code gelu} is another approximation (x sigmoid(1.702 x)) and it has no backward. Forward and backward side by
 * side, as Java kernels and as ND4J ops (the reference, and the {@link Compute#ND4J} path).
 */
public final class Gelu {
    private Gelu() {}

    static final double K = Math.sqrt(2 / Math.PI);
    private static final float GK = (float) K, GK3 = (float) (3 * 0.044715 * K);

    /** out = 0.5 x (1 + th); saves th = that tanh for the backward pass. All of x's shape. */
    public static void forward(Compute compute, INDArray x, INDArray out, INDArray th) {
        if (compute == Compute.JAVA) forwardJava(x, out, th);
        else forwardNd4j(x, out, th);
    }

    /**
     * dx = dout * (0.5 (1 + th) + 0.5 x (1 - th^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)), dx overwritten. {@code tmp} is
     * scratch of x's shape (the ND4J path's).
     */
    public static void backward(Compute compute, INDArray dout, INDArray x, INDArray th, INDArray dx, INDArray tmp) {
        if (compute == Compute.JAVA) backwardJava(dout, x, th, dx);
        else backwardNd4j(dout, x, th, dx, tmp);
    }

    // ------------------------------------------------------------------------------------------ Java kernels

    /** tanh(sqrt(2/pi) (x + 0.044715 x^3)) as 1 - 2 / (e^(2u) + 1): exact at the extremes (e^(2u) = inf gives 1). */
    static float tanh(float x) {
        float u = GK * (x + 0.044715f * x * x * x);
        return 1f - 2f / (Kernels.exp(2 * u) + 1f);
    }

    /** th[i] = {@link #tanh}(x[i]) for i in [0, n). */
    static void tanh(float[] x, float[] th, int n) {
        if (Kernels.vectorized()) {
            VectorKernels.geluTanh(x, th, n);
            return;
        }
        for (int i = 0; i < n; i++) th[i] = tanh(x[i]);
    }

    static void forwardJava(INDArray x, INDArray out, INDArray th) {
        FloatBuffer fx = Kernels.buf(x), fo = Kernels.buf(out), ft = Kernels.buf(th);
        int ox = (int) x.offset(), oo = (int) out.offset(), ot = (int) th.offset();
        Kernels.chunks((int) x.length(), 2, (from, n, c) -> {
            float[] xs = c[0], ts = c[1];
            fx.get(ox + from, xs, 0, n);
            tanh(xs, ts, n);
            ft.put(ot + from, ts, 0, n);
            for (int i = 0; i < n; i++) xs[i] = 0.5f * xs[i] * (1f + ts[i]);
            fo.put(oo + from, xs, 0, n);
        });
    }

    static void backwardJava(INDArray dout, INDArray x, INDArray th, INDArray dx) {
        FloatBuffer fd = Kernels.buf(dout), fx = Kernels.buf(x), ft = Kernels.buf(th), fr = Kernels.buf(dx);
        int od = (int) dout.offset(), ox = (int) x.offset(), ot = (int) th.offset(), or = (int) dx.offset();
        Kernels.chunks((int) x.length(), 3, (from, n, c) -> {
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

    // ------------------------------------------------------------------------------------------ ND4J reference

    static void forwardNd4j(INDArray x, INDArray out, INDArray th) {
        th.assign(x).muli(x).muli(x).muli(0.044715).addi(x).muli(K);
        Transforms.tanh(th, false);
        out.assign(th).addi(1.0).muli(x).muli(0.5);
    }

    static void backwardNd4j(INDArray dout, INDArray x, INDArray th, INDArray dx, INDArray tmp) {
        // tmp = sqrt(2/pi) * (1 + 0.134145 x^2) * 0.5 x
        tmp.assign(x).muli(x).muli(3 * 0.044715).addi(1.0).muli(x).muli(0.5 * K);
        // dx = 1 - th^2
        dx.assign(th).muli(th).rsubi(1.0);
        dx.muli(tmp);
        tmp.assign(th).addi(1.0).muli(0.5);
        dx.addi(tmp).muli(dout);
    }
}
