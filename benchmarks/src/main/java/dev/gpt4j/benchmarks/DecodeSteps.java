package dev.gpt4j.benchmarks;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.KvCache;
import dev.gpt4j.sql.TextToSql;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Batched decode steps of the shipped model, as a server runs them: {@code B} sequences of 200 cached positions each
 * (random tokens), then 40 steps of one new token per sequence, timed; three repetitions per batch size, each line one
 * repetition. With {@code lora}, the example database's adapter is active (rank 16 on every linear layer), as
 * {@code gpt4j serve} answers that database. With {@code threads} N of 2 or more, N threads (the model and N - 1
 * replicas of it, as {@code serve --model-threads N}) each step a batch of their own at the same time; a line gives
 * each thread's time per step and the rows decoded per second by all of them.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Dgpt4j.home=. -cp benchmarks/target/benchmarks.jar dev.gpt4j.benchmarks.DecodeSteps [1,8,16] [lora|base] [threads]
 * </pre>
 */
public final class DecodeSteps {
    private DecodeSteps() {}

    static final int STEPS = 40;

    public static void main(String[] args) throws Exception {
        Path root = Path.of(System.getProperty("gpt4j.home", "."));
        int[] sizes = Arrays.stream((args.length > 0 ? args[0] : "1,8,16").split(",")).mapToInt(Integer::parseInt).toArray();
        boolean lora = args.length < 2 || args[1].equals("lora");
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        Path model = root.resolve("models/gpt4j-sql");
        try (TextToSql t = lora ? TextToSql.load(model, root.resolve("examples/employees.adapter")) : TextToSql.load(model)) {
            List<GptModel> models = new ArrayList<>(List.of(t.model()));
            for (int i = 1; i < threads; i++) models.add(t.model().replica());
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                for (int rep = 0; rep < 3; rep++) {
                    for (int B : sizes) {
                        long t0 = System.nanoTime();
                        List<Future<Double>> each = new ArrayList<>();
                        for (GptModel m : models) each.add(pool.submit(() -> steps(m, B)));
                        double[] ms = new double[threads];
                        for (int i = 0; i < threads; i++) ms[i] = each.get(i).get();
                        double seconds = (System.nanoTime() - t0) / 1e9;
                        if (threads == 1) {
                            System.out.printf("repetition %d, %2d rows, %s: %.3f ms per step, %.3f ms per row%n", rep + 1, B,
                                    lora ? "with the adapter" : "base model", ms[0], ms[0] / B);
                        } else {
                            StringBuilder per = new StringBuilder();
                            for (double m : ms) per.append(String.format(" %.3f", m));
                            System.out.printf("repetition %d, %d threads x %2d rows, %s: ms per step%s; %.0f rows per second in all%n", rep + 1,
                                    threads, B, lora ? "with the adapter" : "base model", per, threads * B * STEPS / seconds);
                        }
                    }
                }
            } finally {
                pool.shutdown();
                pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
                for (int i = 1; i < models.size(); i++) models.get(i).close();
            }
        }
    }

    /** Prefills B sequences and times STEPS decode steps of all of them: ms per step (the prefill not counted). */
    static double steps(GptModel m, int B) {
        int V = m.config().vocabSize(), cached = Math.min(200, m.config().contextLength() - STEPS);
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
            for (int s = 0; s < STEPS; s++) {
                for (int i = 0; i < B; i++) tok[i] = r.nextInt(V);
                m.step(c, seqs, tok, logits);
            }
            return (System.nanoTime() - t0) / 1e6 / STEPS;
        }
    }
}
