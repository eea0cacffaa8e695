package dev.gpt4j.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The whole model's gradient, every tensor, against central finite differences in double precision. */
class ModelGradientTest {
    static final int B = 2, T = 5;

    static GptConfig small(boolean bias, boolean tied, double dropout) {
        return new GptConfig(13, 8, 8, 2, 2, dropout, 1e-5, bias, tied);
    }

    static void checkAll(GptConfig cfg, float[] weights) {
        GptModel m = GptModel.create(cfg, 7, DataType.DOUBLE);
        // bigger random weights than GPT-2's 0.02, so that every path carries a visible gradient
        Random rnd = new Random(3);
        INDArray flat = m.params().values();
        for (long i = 0; i < flat.length(); i++) flat.putScalar(i, flat.getDouble(i) + rnd.nextGaussian() * 0.3);
        int[] tokens = {1, 5, 5, 12, 0, 3, 3, 3, 7, 1}; // repeated ids: their embedding gradients must add up
        int[] targets = {5, 5, 12, 0, GptModel.IGNORE, 3, 3, 7, 1, 2};
        m.train();
        m.setDropoutStep(11);
        java.util.function.DoubleSupplier f = () -> m.forward(tokens, targets, weights, B, T);
        f.getAsDouble();
        m.zeroGrad();
        m.backward();
        Random pick = new Random(5);
        for (Parameters.Slot s : m.params().slots()) {
            long n = s.size();
            long[] idx = null;
            if (n > 40) { // sample, always including the first and last element
                idx = new long[40];
                idx[0] = 0;
                idx[1] = n - 1;
                for (int i = 2; i < idx.length; i++) idx[i] = (long) (pick.nextDouble() * n);
            }
            GradCheck.check(cfg + " " + s.name(), f, m.params().get(s.name()), m.params().grad(s.name()), idx, 1e-6);
        }
    }

    @Test
    void tiedHeadWithBias() {
        checkAll(small(true, true, 0.0), null);
    }

    @Test
    void separateHeadWithoutBias() {
        checkAll(small(false, false, 0.0), null);
    }

    @Test
    void dropoutWithFixedMasks() {
        checkAll(small(true, true, 0.2), null);
    }

    /** Eval mode with a dropout config computes what the same weights compute without dropout, and its gradient. */
    @Test
    void evalModeWithDropoutConfigIsDeterministic() {
        int[] tokens = {1, 5, 5, 12, 0, 3, 3, 3, 7, 1};
        int[] targets = {5, 5, 12, 0, 4, 3, 3, 7, 1, 2};
        try (GptModel a = GptModel.create(small(true, true, 0.3), 4, DataType.DOUBLE).eval();
             GptModel b = GptModel.create(small(true, true, 0.0), 4, DataType.DOUBLE).eval()) {
            assertEquals(b.forward(tokens, targets, B, T), a.forward(tokens, targets, B, T), 0.0);
            a.zeroGrad();
            a.backward();
            b.zeroGrad();
            b.backward();
            assertArrayEquals(b.params().grads().toDoubleVector(), a.params().grads().toDoubleVector(), 0.0);
        }
    }

    @Test
    void lossWeightsAsInFineTuning() {
        checkAll(small(true, false, 0.0), new float[] {0, 0, 1, 1, 1, 0, 0.5f, 1, 2, 1});
    }

    @Test
    void lossIsMeanNegativeLogLikelihoodOverCountedTokens() {
        GptModel m = GptModel.create(small(true, true, 0.0), 1, DataType.DOUBLE).eval();
        int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        int[] targets = {2, 3, 4, 5, GptModel.IGNORE, 7, 8, 9, 10, 11};
        double loss = m.forward(tokens, targets, B, T);
        INDArray logits = m.logits(tokens, B, T);
        double sum = 0;
        int counted = 0;
        for (int i = 0; i < 10; i++) {
            if (targets[i] == GptModel.IGNORE) continue;
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int v = 0; v < 13; v++) max = Math.max(max, logits.getDouble(i, v));
            for (int v = 0; v < 13; v++) z += Math.exp(logits.getDouble(i, v) - max);
            sum += max + Math.log(z) - logits.getDouble(i, targets[i]);
            counted++;
        }
        assertEquals(sum / counted, loss, 1e-12);
        // a freshly initialised model predicts nearly uniformly: loss close to ln V
        assertEquals(Math.log(13), loss, 0.1);
    }

    @Test
    void futureTokensDoNotChangeEarlierLogits() {
        GptModel m = GptModel.create(small(true, true, 0.0), 2, DataType.DOUBLE).eval();
        int[] a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, b = a.clone();
        b[4] = 12; // change the last token of the first row
        b[9] = 0;
        INDArray la = m.logits(a, B, T).dup(), lb = m.logits(b, B, T).dup();
        for (int row : new int[] {0, 1, 2, 3, 5, 6, 7, 8}) assertTrue(la.getRow(row).equalsWithEps(lb.getRow(row), 1e-12), "row " + row);
        assertFalse(la.getRow(4).equalsWithEps(lb.getRow(4), 1e-6));
    }
}
