package dev.gpt4j.inference;

import java.util.List;

/**
 * How to generate: at most {@code maxNewTokens} new tokens (fewer if the context fills up), decoded with
 * temperature / top-k / top-p from {@code seed} (temperature 0 = greedy), stopping early at any of
 * {@code stopStrings} (the text is cut before it) or at the end-of-text token.
 *
 * <pre>{@code
 * var opts = GenerationOptions.greedy(64).withStopStrings(List.of("\n\n"));
 * var sampled = GenerationOptions.sampled(64, 0.8, 40, 1.0, 42);
 * }</pre>
 */
public record GenerationOptions(int maxNewTokens, double temperature, int topK, double topP, long seed, List<String> stopStrings) {
    public GenerationOptions {
        if (maxNewTokens <= 0) throw new IllegalArgumentException("max new tokens must be positive, not " + maxNewTokens);
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
        Sampler.of(temperature, topK, topP, seed); // validates the decoding settings with its own messages
    }

    /** Greedy decoding (the arg-max at every step), no stop strings. */
    public static GenerationOptions greedy(int maxNewTokens) {
        return new GenerationOptions(maxNewTokens, 0, 0, 1, 0, List.of());
    }

    /** Temperature, top-k (0 = off) and top-p (1 = off) sampling from a seed. */
    public static GenerationOptions sampled(int maxNewTokens, double temperature, int topK, double topP, long seed) {
        return new GenerationOptions(maxNewTokens, temperature, topK, topP, seed, List.of());
    }

    public GenerationOptions withStopStrings(List<String> stops) {
        return new GenerationOptions(maxNewTokens, temperature, topK, topP, seed, stops);
    }

    public GenerationOptions withMaxNewTokens(int n) {
        return new GenerationOptions(n, temperature, topK, topP, seed, stopStrings);
    }

    public GenerationOptions withSeed(long s) {
        return new GenerationOptions(maxNewTokens, temperature, topK, topP, s, stopStrings);
    }

    /** A fresh sampler for these settings (one per sequence: it owns its random generator). */
    public Sampler sampler() {
        return Sampler.of(temperature, topK, topP, seed);
    }
}
