package dev.gpt4j.inference;

import java.util.Arrays;

/**
 * One generated continuation: the new tokens (without the stop token), their text (cut before a stop string),
 * why generation stopped, and the time spent on the prompt (prefill) and on the new tokens.
 */
public record Generation(int[] tokens, String text, StopReason stopReason, int promptTokens, long prefillNanos, long generateNanos) {

    public enum StopReason {
        /** the end-of-text token (or another stop token) came */
        STOP_TOKEN,
        /** a stop string appeared in the text */
        STOP_STRING,
        /** the maximum number of new tokens was reached */
        MAX_TOKENS,
        /** the sequence reached the model's context length */
        CONTEXT_FULL,
        /** a constraint allowed no token */
        CONSTRAINED
    }

    /** New tokens per second of the generation phase (after the prompt). */
    public double tokensPerSecond() {
        return generateNanos == 0 ? 0 : tokens.length / (generateNanos / 1e9);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Generation g && Arrays.equals(tokens, g.tokens) && text.equals(g.text) && stopReason == g.stopReason
                && promptTokens == g.promptTokens;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tokens) * 31 + text.hashCode();
    }

    @Override
    public String toString() {
        return String.format("Generation[%d tokens after a %d-token prompt, %s, %.1f tokens/s: %s]", tokens.length, promptTokens,
                stopReason, tokensPerSecond(), text.length() > 80 ? text.substring(0, 77) + "..." : text);
    }
}
