package dev.gpt4j.inference;

/**
 * Hears each token as {@link Generator} takes it, before the next step is computed: what streaming (a web page that
 * shows the answer as it is written, server-sent events) needs, without waiting for the whole batch to end.
 */
@FunctionalInterface
public interface TokenListener {
    /**
     * Sequence {@code seq} (its index in the list of prompts) took {@code token}; called on the generating thread, in
     * order, for every token that becomes part of a {@link Generation}'s tokens (never for the stop token). A stop
     * string is cut from the generation's text only once it is complete, so the tokens heard may spell part of it.
     * It should return quickly: the whole batch waits for it.
     */
    void token(int seq, int token);
}
