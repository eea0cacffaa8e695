package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.UniformDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Inverted dropout: x *= mask with mask = (u &gt;= p) / (1 - p) for u ~ U[0, 1), drawn from the model's generator, whose
 * seed a trainer sets from (seed, step) so that a step recomputed or resumed draws the same masks. The backward pass
 * multiplies the gradient by the same mask.
 */
public final class Dropout {
    private Dropout() {}

    /** In place: x *= mask, the mask drawn from {@code rng} into {@code mask} and kept for backward. */
    public static void forward(INDArray x, INDArray mask, double p, Random rng) {
        Nd4j.getExecutioner().exec(new UniformDistribution(mask, 0.0, 1.0), rng);
        mask.subi(p);
        Transforms.step(mask, false);
        mask.muli(1.0 / (1.0 - p));
        x.muli(mask);
    }
}
