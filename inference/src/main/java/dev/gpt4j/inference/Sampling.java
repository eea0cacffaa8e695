package dev.gpt4j.inference;

import java.util.Arrays;

/** The steps of {@link Sampler.Random} that need scratch rows, and the rows, kept per thread so samplers stay records. */
final class Sampling {
    private static final ThreadLocal<Sampling> OF_THREAD = ThreadLocal.withInitial(Sampling::new);
    double[] probs = new double[0];
    float[] copy = new float[0];
    long[] order = new long[0];

    private Sampling() {}

    /** This thread's rows, grown to the vocabulary size once and reused for every token. */
    static Sampling scratch(int vocab) {
        Sampling s = OF_THREAD.get();
        if (s.probs.length < vocab) {
            s.probs = new double[vocab];
            s.copy = new float[vocab];
            s.order = new long[vocab];
        }
        return s;
    }

    /**
     * Zeroes all but the smallest most-probable set whose mass reaches topP, then renormalizes. Candidates are sorted as
     * primitive keys (probability as float bits, then the inverted id so that lower ids come first on ties); the masses
     * themselves stay in double.
     */
    static void applyTopP(double[] probs, int vocab, double topP, long[] order) {
        int n = 0;
        for (int i = 0; i < vocab; i++) {
            if (probs[i] > 0) order[n++] = ((long) Float.floatToIntBits((float) probs[i]) << 32) | (0xFFFFFFFFL - i);
        }
        Arrays.sort(order, 0, n); // ascending: the most probable is last
        double acc = 0;
        int keep = 0;
        while (keep < n) {
            acc += probs[idAt(order, n - 1 - keep++)];
            if (acc >= topP) break;
        }
        for (int j = keep; j < n; j++) probs[idAt(order, n - 1 - j)] = 0;
        for (int j = 0; j < keep; j++) probs[idAt(order, n - 1 - j)] /= acc;
    }

    private static int idAt(long[] order, int k) {
        return (int) (0xFFFFFFFFL - (order[k] & 0xFFFFFFFFL));
    }

    /** The k-th largest value of the row (1 <= k <= vocab), by quickselect on a reused copy: O(V) per token. */
    static double kthLargest(float[] logits, int offset, int vocab, int k) {
        float[] a = scratch(vocab).copy;
        System.arraycopy(logits, offset, a, 0, vocab);
        int target = vocab - k; // index of the k-th largest in ascending order
        int lo = 0, hi = vocab - 1;
        while (lo < hi) {
            float pivot = a[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    float t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else break; // a[j+1 .. i-1] all equal the pivot
        }
        return a[target];
    }
}
