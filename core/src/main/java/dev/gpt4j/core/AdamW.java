package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.FloatBuffer;

/**
 * AdamW (Loshchilov and Hutter) over the whole flat parameter buffer at once, with the same arithmetic as
 * {@code torch.optim.AdamW}: decoupled weight decay {@code p -= lr * wd * p} (only where the decay mask is 1;
 * nanoGPT's rule: 2-D weights decay, biases, LayerNorm weights do not), then
 * {@code p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)}.
 */
public final class AdamW {
    private final INDArray params, grads, mask;
    private final INDArray m, v, tmp;
    private final double beta1, beta2, eps, weightDecay;
    private final Compute compute;
    private long step;

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8; weight decay as given. */
    public AdamW(Parameters p, double weightDecay) {
        this(p, 0.9, 0.999, 1e-8, weightDecay);
    }

    public AdamW(Parameters p, double beta1, double beta2, double eps, double weightDecay) {
        this(p.values(), p.grads(), p.decayMask(), beta1, beta2, eps, weightDecay);
    }

    /** Over any flat parameter and gradient arrays of one length, and a 0/1 decay mask of that length. */
    public AdamW(INDArray params, INDArray grads, INDArray decayMask, double beta1, double beta2, double eps, double weightDecay) {
        this(params, grads, decayMask, beta1, beta2, eps, weightDecay, Compute.choose(params.dataType()));
    }

    /** As above, on a given path (the tests compare the two). */
    AdamW(INDArray params, INDArray grads, INDArray decayMask, double beta1, double beta2, double eps, double weightDecay, Compute compute) {
        if (params.length() != grads.length() || params.length() != decayMask.length()) {
            throw new IllegalArgumentException("params, grads and mask lengths differ");
        }
        if (compute == Compute.JAVA && (params.dataType() != org.nd4j.linalg.api.buffer.DataType.FLOAT || !Compute.cpuBackend())) {
            throw new IllegalArgumentException("the Java AdamW kernel needs float32 arrays on the CPU backend, got " + params.dataType());
        }
        this.params = params;
        this.grads = grads;
        this.mask = decayMask;
        this.m = params.like().assign(0);
        this.v = params.like().assign(0);
        this.tmp = params.like();
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.compute = compute;
    }

    /** One update with learning rate {@code lr} from the current gradients. */
    public void step(double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        if (compute == Compute.JAVA) {
            stepJava(params, grads, m, v, mask, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
            return;
        }
        // m = b1 m + (1 - b1) g ; v = b2 v + (1 - b2) g^2
        tmp.assign(grads).muli(1 - beta1);
        m.muli(beta1).addi(tmp);
        tmp.assign(grads).muli(grads).muli(1 - beta2);
        v.muli(beta2).addi(tmp);
        // decoupled weight decay on the masked scalars
        if (weightDecay != 0) {
            tmp.assign(params).muli(mask).muli(lr * weightDecay);
            params.subi(tmp);
        }
        // p -= lr / bc1 * m / (sqrt(v / bc2) + eps)
        tmp.assign(v).muli(1.0 / bc2);
        Transforms.sqrt(tmp, false);
        tmp.addi(eps).rdivi(m).muli(lr / bc1);
        params.subi(tmp);
    }

    /**
     * The update as one Java pass over flat p, g, m, v and the 0/1 decay mask, element by element, with
     * {@code torch.optim.AdamW}'s arithmetic: p -= lr wd mask p; m, v updated; p -= lr / bc1 * m / (sqrt(v / bc2) + eps).
     */
    static void stepJava(INDArray p, INDArray g, INDArray m, INDArray v, INDArray mask, double lr, double beta1, double beta2,
                         double eps, double weightDecay, double bc1, double bc2) {
        FloatBuffer fp = Kernels.buf(p), fg = Kernels.buf(g), fm = Kernels.buf(m), fv = Kernels.buf(v), fk = Kernels.buf(mask);
        int opp = (int) p.offset(), og = (int) g.offset(), om = (int) m.offset(), ov = (int) v.offset(), ok = (int) mask.offset();
        float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2);
        float decay = (float) (lr * weightDecay), step = (float) (lr / bc1), invBc2 = (float) (1.0 / bc2), e = (float) eps;
        Kernels.chunks((int) p.length(), 5, (from, n, c) -> {
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

    /** Number of steps taken. */
    public long stepCount() {
        return step;
    }

    /** First moments (a live view; checkpoints save and restore it). */
    public INDArray firstMoment() {
        return m;
    }

    /** Second moments (a live view). */
    public INDArray secondMoment() {
        return v;
    }

    /** Restores the state of a checkpoint: moments and step count. */
    public void restore(INDArray m, INDArray v, long step) {
        this.m.assign(m);
        this.v.assign(v);
        this.step = step;
    }

    /**
     * Scales this optimizer's gradients so that their global L2 norm is at most {@code maxNorm}; returns the
     * norm before. Allocates nothing (unlike the static form).
     */
    public double clipGradNorm(double maxNorm) {
        double norm = gradNorm(grads);
        if (norm > maxNorm) grads.muli(maxNorm / (norm + 1e-6));
        return norm;
    }

    /** The global L2 norm of the gradients. */
    public static double gradNorm(INDArray grads) {
        // summed in Java in a fixed order, in double: ND4J's multi-threaded norm2 depends on its thread count
        java.nio.ByteBuffer b = grads.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        long off = grads.offset(), n = grads.length();
        if (grads.elementWiseStride() != 1) throw new IllegalArgumentException("gradients must be one contiguous buffer");
        double sum = 0;
        if (grads.dataType() == org.nd4j.linalg.api.buffer.DataType.DOUBLE) {
            java.nio.DoubleBuffer d = b.asDoubleBuffer();
            for (long i = 0; i < n; i++) {
                double v = d.get((int) (off + i));
                sum += v * v;
            }
        } else {
            java.nio.FloatBuffer f = b.asFloatBuffer();
            for (long i = 0; i < n; i++) {
                double v = f.get((int) (off + i));
                sum += v * v;
            }
        }
        return Math.sqrt(sum);
    }

    /** Scales the gradients so that their global L2 norm is at most {@code maxNorm}; returns the norm before. */
    public static double clipGradNorm(INDArray grads, double maxNorm) {
        double norm = gradNorm(grads);
        if (norm > maxNorm) grads.muli(maxNorm / (norm + 1e-6));
        return norm;
    }
}
