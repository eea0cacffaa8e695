package dev.gpt4j.training;

/**
 * Linear warm-up from 0 to {@code max} over {@code warmup} steps, then cosine decay to {@code min} at
 * {@code total} steps (Raschka appendix D, nanoGPT). Step numbers start at 0.
 */
public record LrSchedule(double max, double min, int warmup, int total) {
    public LrSchedule {
        if (!(max > 0) || !(min >= 0) || min > max) throw new IllegalArgumentException("need 0 <= min <= max, max > 0: " + min + ", " + max);
        if (warmup < 0 || total <= 0) throw new IllegalArgumentException("need warmup >= 0 and total > 0: " + warmup + ", " + total);
    }

    public double at(long step) {
        if (step < warmup) return max * (step + 1) / warmup;
        if (step >= total) return min;
        double progress = (double) (step - warmup) / Math.max(1, total - warmup);
        return min + 0.5 * (max - min) * (1 + Math.cos(Math.PI * progress));
    }
}
