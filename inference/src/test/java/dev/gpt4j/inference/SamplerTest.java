package dev.gpt4j.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SamplerTest {
    static final float[] LOGITS = {1.0f, 3.0f, 2.5f, -1.0f, 0.0f, 2.5f};

    /** softmax(logits / t) with tokens below the k-th largest removed and the top-p nucleus applied, in double. */
    static double[] reference(float[] logits, double t, int k, double p) {
        int v = logits.length;
        double[] sorted = new double[v];
        for (int i = 0; i < v; i++) sorted[i] = logits[i];
        java.util.Arrays.sort(sorted);
        double cut = k > 0 ? sorted[v - k] : Double.NEGATIVE_INFINITY;
        double[] q = new double[v];
        double z = 0;
        for (int i = 0; i < v; i++) {
            q[i] = logits[i] >= cut ? Math.exp(logits[i] / t) : 0;
            z += q[i];
        }
        for (int i = 0; i < v; i++) q[i] /= z;
        if (p < 1) {
            Integer[] idx = new Integer[v];
            for (int i = 0; i < v; i++) idx[i] = i;
            java.util.Arrays.sort(idx, (a, b) -> q[a] != q[b] ? Double.compare(q[b], q[a]) : Integer.compare(a, b));
            double acc = 0;
            boolean reached = false;
            for (Integer i : idx) {
                if (reached) q[i] = 0;
                else { acc += q[i]; reached = acc >= p; }
            }
            for (int i = 0; i < v; i++) q[i] /= acc;
        }
        return q;
    }

    static void assertSamplesFollow(double[] expected, Sampler s, int n) {
        int[] counts = new int[expected.length];
        for (int i = 0; i < n; i++) counts[s.sample(LOGITS)]++;
        for (int i = 0; i < expected.length; i++) {
            double f = (double) counts[i] / n;
            double sd = Math.sqrt(expected[i] * (1 - expected[i]) / n);
            if (expected[i] == 0) assertEquals(0, counts[i], "token " + i + " must never be drawn");
            else assertTrue(Math.abs(f - expected[i]) < 5 * sd + 1e-9, "token " + i + ": " + f + " vs " + expected[i]);
        }
    }

    @Test
    void greedyTakesTheArgmaxAndTheLowestIdOnTies() {
        assertEquals(1, Sampler.greedy().sample(LOGITS));
        assertEquals(2, Sampler.greedy().sample(new float[] {0, 5, 7, 7}, 1, 3) + 1);
        assertEquals(1, Sampler.of(0, 0, 1, 1).sample(LOGITS), "temperature 0 is greedy");
        assertEquals(1, Sampler.of(2, 1, 1, 1).sample(LOGITS), "top-k 1 is greedy");
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        assertSamplesFollow(reference(LOGITS, 1.0, 0, 1), Sampler.of(1.0, 0, 1, 7), 200_000);
        assertSamplesFollow(reference(LOGITS, 0.5, 0, 1), Sampler.of(0.5, 0, 1, 8), 200_000);
        assertSamplesFollow(reference(LOGITS, 3.0, 0, 1), Sampler.of(3.0, 0, 1, 9), 200_000);
    }

    @Test
    void topKKeepsTheKLargestAndTiesAtTheCut() {
        double[] k2 = reference(LOGITS, 1.0, 2, 1);
        assertTrue(k2[2] > 0 && k2[5] > 0 && k2[0] == 0, "ties at the cut are kept");
        assertSamplesFollow(k2, Sampler.of(1.0, 2, 1, 10), 200_000);
        assertSamplesFollow(reference(LOGITS, 1.5, 4, 1), Sampler.of(1.5, 4, 1, 11), 200_000);
    }

    @Test
    void topPKeepsTheSmallestNucleus() {
        double[] p = reference(LOGITS, 1.0, 0, 0.7);
        assertSamplesFollow(p, Sampler.of(1.0, 0, 0.7, 12), 200_000);
        assertEquals(3, java.util.Arrays.stream(p).filter(x -> x > 0).count());
        assertSamplesFollow(reference(LOGITS, 1.0, 0, 0.01), Sampler.of(1.0, 0, 0.01, 13), 10_000);
    }

    @Test
    void topKCutIsTheKthLargestOnRowsWithManyTies() {
        java.util.Random r = new java.util.Random(5);
        Sampler s = Sampler.of(1, 3, 1, 0);
        for (int trial = 0; trial < 500; trial++) {
            int v = 1 + r.nextInt(300);
            float[] row = new float[v + 2];
            for (int i = 0; i < row.length; i++) row[i] = r.nextInt(trial % 2 == 0 ? 5 : 1000) - 2;
            int k = 1 + r.nextInt(v);
            float[] sorted = java.util.Arrays.copyOfRange(row, 1, v + 1);
            java.util.Arrays.sort(sorted);
            assertEquals(sorted[v - k], Sampling.kthLargest(row, 1, v, k), "v=" + v + " k=" + k);
        }
    }

    @Test
    void sameSeedSameTokens() {
        Sampler a = Sampler.of(1.2, 5, 0.9, 42);
        Sampler b = Sampler.of(1.2, 5, 0.9, 42);
        Sampler c = Sampler.of(1.2, 5, 0.9, 43);
        StringBuilder sa = new StringBuilder(), sb = new StringBuilder(), sc = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sa.append(a.sample(LOGITS));
            sb.append(b.sample(LOGITS));
            sc.append(c.sample(LOGITS));
        }
        assertEquals(sa.toString(), sb.toString());
        assertTrue(!sa.toString().equals(sc.toString()));
    }

    @Test
    void badSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(-1, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(Double.NaN, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, -2, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, 0, 1.5, 0));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, 0, 1, 0).sample(new float[] {0, Float.NaN}));
    }
}
