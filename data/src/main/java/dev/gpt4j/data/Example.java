package dev.gpt4j.data;

import java.util.Arrays;

/**
 * One tokenized fine-tuning example: prompt tokens followed by answer tokens (the SQL and the end marker).
 * {@code answerStart} is the index of the first answer token: a language-model loss should count only
 * predictions of tokens at {@code answerStart} and later ({@link #targets()} marks the others with -100).
 * {@code droppedTables} counts schema tables left out to fit the context.
 */
public record Example(int[] tokens, int answerStart, int droppedTables) {
    /** The value {@link #targets()} uses for positions without loss (PyTorch's ignore_index convention). */
    public static final int IGNORE = -100;

    public Example {
        if (answerStart < 1 || answerStart > tokens.length) {
            throw new IllegalArgumentException("answerStart " + answerStart + " is outside 1.." + tokens.length);
        }
    }

    public int length() {
        return tokens.length;
    }

    /** Model inputs: every token but the last. */
    public int[] inputs() {
        return Arrays.copyOf(tokens, tokens.length - 1);
    }

    /** Next-token targets for {@link #inputs()}: the next token where it is an answer token, else {@link #IGNORE}. */
    public int[] targets() {
        int[] t = new int[tokens.length - 1];
        for (int i = 0; i < t.length; i++) {
            t[i] = i + 1 >= answerStart ? tokens[i + 1] : IGNORE;
        }
        return t;
    }

    /** The prompt part (what a model is given at inference). */
    public int[] prompt() {
        return Arrays.copyOf(tokens, answerStart);
    }

    @Override
    public String toString() {
        return "Example[" + tokens.length + " tokens, answer from " + answerStart
                + (droppedTables > 0 ? ", " + droppedTables + " tables dropped" : "") + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && e.answerStart == answerStart && e.droppedTables == droppedTables
                && Arrays.equals(e.tokens, tokens);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tokens) * 31 + answerStart;
    }
}
