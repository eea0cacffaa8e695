package dev.gpt4j.inference;

/**
 * Decides, during generation, which tokens may come next (e.g. schema-constrained SQL decoding). Each sequence
 * carries a {@link State}: where it stands after what it has generated. The generator asks the state about its
 * preferred tokens in turn, best first, takes the first one allowed and moves the state on with {@link State#next};
 * so a constraint sees only a handful of candidates per step, and, with a state that keeps what it has worked out,
 * a candidate costs the candidate, not the whole prefix again.
 */
public interface TokenConstraint {
    /** Where sequence {@code seq} (which prompt of a batch; 0 for a single one) stands before its first generated token. */
    State start(int seq);

    /**
     * What one sequence has generated so far, as the constraint sees it. Immutable: the hypotheses of a beam search
     * that share a prefix share its state, and {@link #next} returns a new one.
     */
    interface State {
        /** Whether {@code token} may come next (it may be the end-of-text token). */
        boolean allows(int token);

        /** The state after {@code token}, which {@link #allows} allowed. */
        State next(int token);

        /**
         * Before the choice of the next token: a preference, not a rule. It may add to {@code logits} (the next
         * token's, for vocabulary id v at index v); the choice then goes on as usual, among allowed tokens. None by
         * default.
         */
        default void prefer(float[] logits) {
        }
    }
}
