package dev.gpt4j.training;

/** The loss or the gradient became NaN or infinite; the run stopped before the bad update was applied. */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;

    public TrainingDivergedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The step (1-based) whose loss or gradient was not finite. */
    public long step() {
        return step;
    }
}
