package dev.gpt4j.sql;

import dev.gpt4j.inference.GenerationOptions;

/**
 * How {@link TextToSql} decodes, checked here once (the messages name the command line's flags, where most such
 * errors start):
 * <ul>
 * <li>{@code generation}: the sampler and token limit of ordinary decoding (greedy, 128 SQL tokens by default);</li>
 * <li>{@code batchSize}: how many questions run as one batch;</li>
 * <li>{@code beamWidth}: above 1, each question is answered by a beam search of that width instead, one question at a
 *     time (only the token limit of {@code generation} is used), and {@link TextToSql#candidates} gives that many
 *     ranked answers;</li>
 * <li>{@code fallbackBeam}: with constrained decoding ({@link SqlRules#constrained()}; ignored without), a question
 *     whose answer never became a complete query (the constraint allowed no token, or the tokens ran out, before any
 *     prefix could end) is decoded again by a beam search of that width, and answered with its best complete
 *     candidate if it has one. Complete answers stay as they are, so it cannot lose a right answer; 0 or 1: off.</li>
 * </ul>
 */
public record Decoding(GenerationOptions generation, int batchSize, int beamWidth, int fallbackBeam) {
    /** {@code gpt4j ask}'s and {@code gpt4j eval}'s: greedy, 128 tokens, batches of 8, no beam, a fallback beam of 4. */
    public static final Decoding DEFAULT = new Decoding(GenerationOptions.greedy(128), 8, 1, 4);

    public Decoding {
        if (generation == null) throw new IllegalArgumentException("no generation options");
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        if (beamWidth < 1) throw new IllegalArgumentException("--beam must be >= 1, got " + beamWidth);
        if (fallbackBeam < 0) throw new IllegalArgumentException("--fallback-beam must be >= 0, got " + fallbackBeam);
    }

    public Decoding withGeneration(GenerationOptions g) {
        return new Decoding(g, batchSize, beamWidth, fallbackBeam);
    }

    public Decoding withBatchSize(int b) {
        return new Decoding(generation, b, beamWidth, fallbackBeam);
    }

    public Decoding withBeam(int width) {
        return new Decoding(generation, batchSize, width, fallbackBeam);
    }

    public Decoding withFallbackBeam(int width) {
        return new Decoding(generation, batchSize, beamWidth, width);
    }
}
