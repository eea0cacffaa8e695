package dev.gpt4j.inference;

/**
 * Decides, during generation, whether a token may come next given what sequence {@code seq} has generated so
 * far (e.g. schema-constrained SQL decoding). The generator asks about its preferred tokens in turn, best
 * first, and takes the first one allowed; so a constraint sees only a handful of tokens per step, not the
 * whole vocabulary.
 */
public interface TokenConstraint {
    /**
     * @param seq       which prompt of a batch (0 for a single one)
     * @param generated the tokens generated so far for it
     * @param count     how many of {@code generated} are valid
     * @param token     the candidate (it may be the end-of-text token)
     */
    boolean allows(int seq, int[] generated, int count, int token);

    /**
     * Before the choice of the next token: a preference, not a rule. It may add to {@code logits} (the next
     * token's, for vocabulary id v at index v); the choice then goes on as usual, among allowed tokens. None by
     * default.
     */
    default void prefer(int seq, int[] generated, int count, float[] logits) {
    }
}
