package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

/**
 * Inverted dropout: x *= mask with mask = (u &gt; p) / (1 - p), u uniform in [0, 1). The masks of a forward pass come
 * from {@link Draws}, which a model resets from (seed, step) before it, so that a step recomputed or resumed draws the
 * same masks. The backward pass multiplies the gradient by the same mask.
 *
 * <p>u is a hash of (the pass's key, the mask's number in the pass, the element's index), not a sequence: every
 * element is drawn on its own, so the masks are the same on both paths and whatever the split over threads, and the
 * Java path draws, masks and multiplies in one pass over x (ND4J's generator and ops took five, and woke ND4J's
 * OpenMP team, whose spinning afterwards took a core from the matrix products).
 */
public final class Dropout {
    private Dropout() {}

    /** The random numbers of one forward pass's masks. Not thread-safe: one forward at a time. */
    public static final class Draws {
        private long key, masks;

        /** Starts a pass: its masks are a function of {@code key} and their order. */
        public void reset(long key) {
            this.key = key;
            this.masks = 0;
        }

        /** The key of the pass's next mask. */
        long next() {
            return mix(key + GOLDEN * ++masks);
        }
    }

    /** 2^64 / φ, odd: consecutive multiples spread over the 64 bits (SplitMix64's increment). */
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    /** SplitMix64's output function (Stafford's mix13): every input bit moves every output bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** u of element i of the mask with key {@code mask}: the top 24 bits of a hash, so u in [0, 1) in float's steps. */
    static float uniform(long mask, long i) {
        return (mix(mask + GOLDEN * i) >>> 40) * 0x1.0p-24f;
    }

    /** In place on {@code compute}'s path: x *= mask, the mask drawn from {@code draws} into {@code mask} and kept for backward. */
    public static void forward(Compute compute, INDArray x, INDArray mask, double p, Draws draws) {
        forward(compute, x, x, mask, p, draws);
    }

    /** As above into {@code out} (which may be x): out = x * mask. */
    public static void forward(Compute compute, INDArray x, INDArray out, INDArray mask, double p, Draws draws) {
        long key = draws.next();
        float pf = (float) p, scale = (float) (1.0 / (1.0 - p));
        if (compute == Compute.JAVA && dense(x) && dense(out) && dense(mask) && x.dataType() == DataType.FLOAT) {
            FloatBuffer fx = Kernels.buf(x), fo = Kernels.buf(out), fm = Kernels.buf(mask);
            int ox = (int) x.offset(), oo = (int) out.offset(), om = (int) mask.offset();
            Kernels.chunks((int) x.length(), 2, (from, n, c) -> {
                float[] xs = c[0], ms = c[1];
                fx.get(ox + from, xs, 0, n);
                for (int i = 0; i < n; i++) {
                    ms[i] = uniform(key, from + i) > pf ? scale : 0f;
                    xs[i] *= ms[i];
                }
                fo.put(oo + from, xs, 0, n);
                fm.put(om + from, ms, 0, n);
            });
            return;
        }
        // the ND4J path: the same u made on the heap, then ND4J's ops (on a GPU, one copy of the mask to the device)
        float[] m = new float[(int) mask.length()];
        for (int i = 0; i < m.length; i++) m[i] = uniform(key, i) > pf ? scale : 0f;
        mask.assign(Nd4j.createFromArray(m).reshape(mask.shape()).castTo(mask.dataType()));
        if (out != x) out.assign(x);
        out.muli(mask);
    }

    /** Dropout of a layer's input into a buffer of its own: dropped = x * mask (an adapter keeps x for the base). */
    @FunctionalInterface
    public interface Into {
        void apply(INDArray x, INDArray dropped, INDArray mask);
    }

    /** Element i at offset + i (what the Java pass reads and writes). */
    private static boolean dense(INDArray a) {
        return a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a);
    }
}
