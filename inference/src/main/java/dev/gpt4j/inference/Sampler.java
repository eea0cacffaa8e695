package dev.gpt4j.inference;

import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits, in Java on a {@code float[]} (ND4J's {@code random_multinomial} samples a
 * wrong distribution: DESIGN.md). Two kinds: {@link Greedy} takes the arg-max (the lowest id on ties); {@link Random}
 * follows Raschka ch. 5: logits divided by the temperature, top-k keeps the tokens whose logit is at least the k-th
 * largest (ties at the cut are kept), softmax, then top-p (nucleus) keeps the most probable tokens until their mass
 * reaches p (at least one), and a token is drawn from the renormalized rest with a seeded generator. The same seed and
 * logits give the same tokens.
 *
 * <p>A {@link Random} sampler owns its generator: use one per sequence, in one thread.
 */
public interface Sampler {

    /** The next token for the row {@code logits[offset .. offset + vocab)}: an id in {@code [0, vocab)}. */
    int sample(float[] logits, int offset, int vocab);

    /** The next token for {@code logits[0 .. length)}. */
    default int sample(float[] logits) {
        return sample(logits, 0, logits.length);
    }

    /** Always the most likely token. */
    static Sampler greedy() {
        return new Greedy();
    }

    /**
     * Temperature sampling with optional top-k (0 = off) and top-p (1 = off), from {@code seed}. A temperature of 0 or a
     * top-k of 1 is greedy.
     */
    static Sampler of(double temperature, int topK, double topP, long seed) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0 and finite, got " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1] (1 = off), got " + topP);
        if (temperature == 0 || topK == 1) return new Greedy();
        return new Random(temperature, topK, topP, new SplittableRandom(seed));
    }

    /** The arg-max; the lowest id on ties. */
    record Greedy() implements Sampler {
        @Override
        public int sample(float[] logits, int offset, int vocab) {
            if (vocab <= 0) throw new IllegalArgumentException("empty logits row");
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
    }

    /** Temperature, top-k and top-p sampling with its own seeded generator. */
    record Random(double temperature, int topK, double topP, SplittableRandom random) implements Sampler {
        @Override
        public int sample(float[] logits, int offset, int vocab) {
            if (vocab <= 0) throw new IllegalArgumentException("empty logits row");
            Sampling s = Sampling.scratch(vocab);
            double[] probs = s.probs;
            double cut = Double.NEGATIVE_INFINITY;
            if (topK > 0 && topK < vocab) cut = Sampling.kthLargest(logits, offset, vocab, topK);
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) {
                float l = logits[offset + i];
                if (Float.isNaN(l)) throw new IllegalArgumentException("logit " + i + " is NaN");
                if (l >= cut && l > max) max = l;
            }
            double sum = 0;
            for (int i = 0; i < vocab; i++) {
                double l = logits[offset + i];
                double p = l >= cut ? Math.exp((l - max) / temperature) : 0;
                probs[i] = p;
                sum += p;
            }
            for (int i = 0; i < vocab; i++) probs[i] /= sum;
            if (topP < 1) Sampling.applyTopP(probs, vocab, topP, s.order);
            double u = random.nextDouble();
            double acc = 0;
            int last = -1;
            for (int i = 0; i < vocab; i++) {
                if (probs[i] > 0) {
                    acc += probs[i];
                    last = i;
                    if (u < acc) return i;
                }
            }
            return last; // rounding left u just above the total
        }

        @Override
        public String toString() {
            return "Sampler.Random[temperature=" + temperature + ", topK=" + topK + ", topP=" + topP + "]";
        }
    }
}
