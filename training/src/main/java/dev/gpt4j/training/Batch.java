package dev.gpt4j.training;

/** One batch: B rows of T input tokens and their targets ({@code -100} where no loss is taken). */
public record Batch(int[] inputs, int[] targets, int batchSize, int length) {
    /** Tokens that count in the loss. */
    public int countedTokens() {
        int n = 0;
        for (int t : targets) if (t != dev.gpt4j.core.GptModel.IGNORE) n++;
        return n;
    }
}
