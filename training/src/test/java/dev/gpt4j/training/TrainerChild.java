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

    /**
     * With {@code -Dgpt4j.test.pauseBeforeRename=step-000030}, the JVM stops for good just before that checkpoint's
     * temporary folder (complete by then) would be renamed into place, after printing {@code PAUSED <folder>}: the
     * test then kills it in the middle of writing the checkpoint.
     */
    public static void main(String[] args) {
        String pause = System.getProperty("gpt4j.test.pauseBeforeRename");
        if (pause != null) {
            Checkpoints.beforeRename = tmp -> {
                String name = tmp.getFileName().toString();
                if (!name.startsWith(".tmp-" + pause) && !name.equals(pause)) return; // (the latter: a writer that skips the temporary folder)
                System.out.println("PAUSED " + tmp);
                System.out.flush();
                while (true) {
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        // keep waiting for the kill
                    }
                }
            };
        }
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
