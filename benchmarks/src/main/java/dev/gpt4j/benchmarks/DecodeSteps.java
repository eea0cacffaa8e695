package dev.gpt4j.benchmarks;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.KvCache;
import dev.gpt4j.sql.TextToSql;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Batched decode steps of the shipped model, as a server runs them: {@code B} sequences of 200 cached positions each
 * (random tokens), then 40 steps of one new token per sequence, timed; three repetitions per batch size, each line one
 * repetition. With {@code lora}, the example database's adapter is active (rank 16 on every linear layer), as
 * {@code gpt4j serve} answers that database.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Dgpt4j.home=. -cp benchmarks/target/benchmarks.jar dev.gpt4j.benchmarks.DecodeSteps [1,8,16] [lora|base]
 * </pre>
 */
public final class DecodeSteps {
    private DecodeSteps() {}

    public static void main(String[] args) {
        Path root = Path.of(System.getProperty("gpt4j.home", "."));
        int[] sizes = Arrays.stream((args.length > 0 ? args[0] : "1,8,16").split(",")).mapToInt(Integer::parseInt).toArray();
        boolean lora = args.length < 2 || args[1].equals("lora");
        Path model = root.resolve("models/gpt4j-sql");
        try (TextToSql t = lora ? TextToSql.load(model, root.resolve("examples/employees.adapter")) : TextToSql.load(model)) {
            GptModel m = t.model();
            int V = m.config().vocabSize(), steps = 40, cached = Math.min(200, m.config().contextLength() - steps);
            for (int rep = 0; rep < 3; rep++) {
                for (int B : sizes) {
                    try (KvCache c = m.newKvCache(B)) {
                        Random r = new Random(1);
                        for (int b = 0; b < B; b++) {
                            int[] p = new int[cached];
                            for (int i = 0; i < p.length; i++) p[i] = r.nextInt(V);
                            m.prefill(c, b, p);
                        }
                        int[] seqs = new int[B], tok = new int[B];
                        for (int i = 0; i < B; i++) seqs[i] = i;
                        float[] logits = new float[B * V];
                        long t0 = System.nanoTime();
                        for (int s = 0; s < steps; s++) {
                            for (int i = 0; i < B; i++) tok[i] = r.nextInt(V);
                            m.step(c, seqs, tok, logits);
                        }
                        double ms = (System.nanoTime() - t0) / 1e6 / steps;
                        System.out.printf("repetition %d, %2d rows, %s: %.3f ms per step, %.3f ms per row%n", rep + 1, B,
                                lora ? "with the adapter" : "base model", ms, ms / B);
                    }
                }
            }
        }
    }
}
