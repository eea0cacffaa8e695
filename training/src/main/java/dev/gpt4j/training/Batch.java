package dev.gpt4j.training;

/** One batch: B rows of T input tokens and their targets ({@code -100} where no loss is taken). */
public record Batch(int[] inputs, int[] targets, int batchSize, int length) {}
