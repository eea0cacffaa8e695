package dev.gpt4j.inference;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits, in Java on a {@code float[]} (ND4J's {@code random_multinomial}
 * samples a wrong distribution: DESIGN.md). Greedy takes the arg-max (the lowest id on ties). Otherwise, as in
 * Raschka ch. 5: logits are divided by the temperature, top-k keeps the tokens whose logit is at least the
 * k-th largest (ties at the cut are kept), softmax, then top-p (nucleus) keeps the most probable tokens
 * until their mass reaches p (at least one), and a token is drawn from the renormalized rest with a seeded
 * generator. The same seed and logits give the same tokens.
 *
 * <p>Not thread-safe: it owns its random generator and scratch arrays; use one per generation.
 */
public final class Sampler {
    private final double temperature;
    private final int topK;
    private final double topP;
    private final SplittableRandom random;
    // scratch rows, grown once to the vocabulary size and reused for every token
    private double[] probs = new double[0];
    private float[] scratch = new float[0];
    private long[] order = new long[0];

    private Sampler(double temperature, int topK, double topP, long seed) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0 and finite, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1] (1 = off), got " + topP);
        }
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    /** Always the most likely token. */
    public static Sampler greedy() {
        return new Sampler(0, 0, 1, 0);
    }

    /**
     * Temperature sampling with optional top-k (0 = off) and top-p (1 = off). A temperature of 0 means greedy.
     */
    public static Sampler of(double temperature, int topK, double topP, long seed) {
        return new Sampler(temperature, topK, topP, seed);
    }

    public boolean isGreedy() {
        return temperature == 0 || topK == 1;
    }

    /** The next token for {@code logits[0..vocab)}. */
    public int sample(float[] logits) {
        return sample(logits, 0, logits.length);
    }

    /** The next token for the row {@code logits[offset .. offset+vocab)}; returns an id in {@code [0, vocab)}. */
    public int sample(float[] logits, int offset, int vocab) {
        if (vocab <= 0) {
            throw new IllegalArgumentException("empty logits row");
        }
        if (isGreedy()) {
            return argmax(logits, offset, vocab);
        }
        if (probs.length < vocab) {
            probs = new double[vocab];
        }
        double cut = Double.NEGATIVE_INFINITY;
        if (topK > 0 && topK < vocab) {
            cut = kthLargest(logits, offset, vocab, topK);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float l = logits[offset + i];
            if (Float.isNaN(l)) {
                throw new IllegalArgumentException("logit " + i + " is NaN");
            }
            if (l >= cut && l > max) {
                max = l;
            }
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            double l = logits[offset + i];
            double p = l >= cut ? Math.exp((l - max) / temperature) : 0;
            probs[i] = p;
            sum += p;
        }
        for (int i = 0; i < vocab; i++) {
            probs[i] /= sum;
        }
        if (topP < 1) {
            applyTopP(vocab);
        }
        double u = random.nextDouble();
        double acc = 0;
        int last = -1;
        for (int i = 0; i < vocab; i++) {
            if (probs[i] > 0) {
                acc += probs[i];
                last = i;
                if (u < acc) {
                    return i;
                }
            }
        }
        return last; // rounding left u just above the total
    }

    /**
     * Zeroes all but the smallest most-probable set whose mass reaches topP, then renormalizes. Candidates are
     * sorted as primitive keys (probability as float bits, then the inverted id so that lower ids come first on
     * ties); the masses themselves stay in double.
     */
    private void applyTopP(int vocab) {
        if (order.length < vocab) {
            order = new long[vocab];
        }
        int n = 0;
        for (int i = 0; i < vocab; i++) {
            if (probs[i] > 0) {
                order[n++] = ((long) Float.floatToIntBits((float) probs[i]) << 32) | (0xFFFFFFFFL - i);
            }
        }
        Arrays.sort(order, 0, n); // ascending: the most probable is last
        double acc = 0;
        int keep = 0;
        while (keep < n) {
            acc += probs[idAt(n - 1 - keep++)];
            if (acc >= topP) {
                break;
            }
        }
        for (int j = keep; j < n; j++) {
            probs[idAt(n - 1 - j)] = 0;
        }
        for (int j = 0; j < keep; j++) {
            probs[idAt(n - 1 - j)] /= acc;
        }
    }

    private int idAt(int k) {
        return (int) (0xFFFFFFFFL - (order[k] & 0xFFFFFFFFL));
    }

    static int argmax(float[] logits, int offset, int vocab) {
        int best = 0;
        float bestValue = logits[offset];
        for (int i = 1; i < vocab; i++) {
            if (logits[offset + i] > bestValue) {
                bestValue = logits[offset + i];
                best = i;
            }
        }
        return best;
    }

    /** The k-th largest value of the row (1 <= k <= vocab), by quickselect on a reused copy: O(V) per token. */
    double kthLargest(float[] logits, int offset, int vocab, int k) {
        if (scratch.length < vocab) {
            scratch = new float[vocab];
        }
        float[] a = scratch;
        System.arraycopy(logits, offset, a, 0, vocab);
        int target = vocab - k; // index of the k-th largest in ascending order
        int lo = 0;
        int hi = vocab - 1;
        while (lo < hi) {
            float pivot = a[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    float t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                break; // a[j+1 .. i-1] all equal the pivot
            }
        }
        return a[target];
    }

    @Override
    public String toString() {
        return isGreedy() ? "Sampler[greedy]" : "Sampler[temperature=" + temperature + ", topK=" + topK + ", topP=" + topP + "]";
    }
}
