package dev.gpt4j.training;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A training JVM for the tests that kill one ({@code kill -9}) and resume: {@code TrainerChild [--resume] key=value...},
 * the keys of {@link TrainConfig} (what {@code gpt4j pretrain --set key=value} gives the same trainer).
 */
public final class TrainerChild {
    private TrainerChild() {}

    public static void main(String[] args) {
        Map<String, Object> values = TrainConfig.defaults();
        boolean resume = false;
        for (String a : args) {
            if (a.equals("--resume")) {
                resume = true;
                continue;
            }
            int eq = a.indexOf('=');
            if (eq < 0) throw new IllegalArgumentException("expected key=value, got " + a);
            values.put(a.substring(0, eq), a.substring(eq + 1));
        }
        new Trainer(TrainConfig.of(values), new PrintStream(System.out, true, StandardCharsets.UTF_8)).run(resume);
    }
}
