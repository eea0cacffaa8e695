package dev.gpt4j.training;

/**
 * Where batches come from. Batch {@code index} (counting micro-batches from the start of the run) is a pure
 * function of the data, the seed and the index, so a resumed run sees exactly the batches it would have seen.
 */
public interface TrainingData {
    Batch train(long index);

    /** Validation batch {@code i} (fixed, in order). */
    Batch validation(int i);

    /** Number of validation batches available (0 if none). */
    int validationBatches();

    /** A line for the log: sizes of the train and validation parts. */
    String describe();
}
