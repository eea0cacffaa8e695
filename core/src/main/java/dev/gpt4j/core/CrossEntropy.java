package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.same.Max;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.FloatBuffer;

/**
 * The loss: the weighted mean of -log softmax(logits)[target] over rows of logits [R, V], and its gradient with respect
 * to the logits, (softmax - onehot(target)) * weight. Forward and backward side by side, as Java kernels (one pass per
 * row; the exps on the Vector API) and as ND4J ops (ND4J's sparse softmax cross-entropy gradient is softmax - onehot
 * not divided by N; composing it keeps the weights explicit).
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /**
     * Per row r of logits [R, V]: rowMax[r] = its max, probs[r, :] = exp(logits - max) (not yet normalised), rowSum[r] =
     * their sum; then the sum over rows of weights[r] * (log-sum-exp - logit of targets[r]).
     */
    static double forward(Compute compute, INDArray logits, INDArray probs, INDArray rowMax, INDArray rowSum, int[] targets,
                          float[] weights) {
        int R = (int) logits.size(0);
        if (compute == Compute.JAVA) {
            softmaxRowsJava(logits, probs, rowMax, rowSum);
        } else {
            Nd4j.getExecutioner().exec(new Max(logits, rowMax, 1));
            probs.assign(logits).subiColumnVector(rowMax);
            Transforms.exp(probs, false);
            probs.sum(rowSum, 1);
        }
        double total = 0;
        for (int r = 0; r < R; r++) {
            double lse = rowMax.getDouble(r) + Math.log(rowSum.getDouble(r));
            total += weights[r] * (lse - logits.getDouble(r, targets[r]));
        }
        return total;
    }

    /**
     * In place over probs [R, V] from {@link #forward}: probs = (probs / rowSum - onehot(target)) * weight, the gradient
     * of sum(weight * nll) with respect to the logits. {@code weightArr} [R] is scratch for the ND4J path.
     */
    static void backward(Compute compute, INDArray probs, INDArray rowSum, int[] targets, float[] weights, INDArray weightArr) {
        if (compute == Compute.JAVA) {
            backwardJava(probs, rowSum, targets, weights);
            return;
        }
        int R = (int) probs.size(0);
        probs.diviColumnVector(rowSum);
        for (int r = 0; r < R; r++) probs.putScalar(r, targets[r], probs.getDouble(r, targets[r]) - 1.0);
        for (int r = 0; r < R; r++) weightArr.putScalar(r, weights[r]);
        probs.muliColumnVector(weightArr);
    }

    // ------------------------------------------------------------------------------------------ Java kernels

    /** The rows of {@link #forward}: max, shifted exps and their sum (accumulated in double). */
    static void softmaxRowsJava(INDArray logits, INDArray probs, INDArray rowMax, INDArray rowSum) {
        int R = (int) logits.size(0), V = (int) logits.size(1);
        FloatBuffer fl = Kernels.buf(logits), fp = Kernels.buf(probs), fm = Kernels.buf(rowMax), fs = Kernels.buf(rowSum);
        int ol = (int) logits.offset(), op = (int) probs.offset(), om = (int) rowMax.offset(), os = (int) rowSum.offset();
        Kernels.parallel(R, 4, (from, to) -> {
            float[] row = new float[V];
            for (int r = from; r < to; r++) {
                fl.get(ol + r * V, row, 0, V);
                float max = Kernels.max(row, V);
                Kernels.expShifted(row, V, max);
                fp.put(op + r * V, row, 0, V);
                fm.put(om + r, max);
                fs.put(os + r, (float) Kernels.sum(row, V));
            }
        });
    }

    static void backwardJava(INDArray probs, INDArray rowSum, int[] targets, float[] weights) {
        int R = (int) probs.size(0), V = (int) probs.size(1);
        FloatBuffer fp = Kernels.buf(probs), fs = Kernels.buf(rowSum);
        int op = (int) probs.offset(), os = (int) rowSum.offset();
        Kernels.parallel(R, 4, (from, to) -> {
            float[] row = new float[V];
            for (int r = from; r < to; r++) {
                fp.get(op + r * V, row, 0, V);
                float w = weights[r], scale = w / fs.get(os + r);
                for (int j = 0; j < V; j++) row[j] *= scale;
                row[targets[r]] -= w;
                fp.put(op + r * V, row, 0, V);
            }
        });
    }
}
