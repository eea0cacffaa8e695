package dev.gpt4j.benchmarks;

import dev.gpt4j.core.quant.Q8Activations;
import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.core.quant.QuantizedMatrix;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * The linear products of one generated token of the 'medium' model ({@link QuantBenchmark.Token}'s set: 6 layers ×
 * qkv, output, MLP up and down, then the LM head; 10.6M weights), for the variants that matter to how Q8_0 and Q4_0
 * weights are run, <b>alternated</b> in one JVM so that a noisy shared machine slows them alike:
 * <ul>
 *   <li>{@code f32}: OpenBLAS's sgemv (on 1 or 2 of its threads, as gpt4j's generation calls it);</li>
 *   <li>{@code q8_0/f32act}, {@code q4_0/f32act}: {@link QuantizedMatrix#matmul(float[], int, float[], int, int)},
 *       the float activations times the weights dequantized on the fly;</li>
 *   <li>{@code q8_0/q8act}, {@code q4_0/q8act}: the activations quantized to Q8_0 ({@link Q8Activations}, included in
 *       the time) and {@link QuantizedMatrix#matmul(Q8Activations, float[], int, int)}, as llama.cpp computes.</li>
 * </ul>
 * With 2 threads the quantized products split their rows in two halves (the caller's thread and a pool thread, as
 * gpt4j's Kernels.parallel does); the activations are quantized once, before the split.
 * Each round times every variant for {@code tokens} tokens, in a rotating order; the output is each variant's median
 * µs per token and the median over rounds of the per-round ratios to {@code f32} and between the two q8_0 and the two
 * q4_0 variants.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.gpt4j.benchmarks.QuantTokenSpeed [threads 1] [rounds 30] [tokens 50]</pre>
 */
public final class QuantTokenSpeed {
    static final int C = 384, LAYERS = 6, V = 16384;

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        if (!QuantizedMatrix.vectorized()) throw new IllegalStateException("the Vector API kernels are off (--add-modules jdk.incubator.vector)");
        int n = LAYERS * 4 + 1;
        int[] ins = new int[n], outs = new int[n];
        for (int l = 0; l < LAYERS; l++) {
            int[][] shapes = {{C, 3 * C}, {C, C}, {C, 4 * C}, {4 * C, C}};
            for (int k = 0; k < 4; k++) {
                ins[4 * l + k] = shapes[k][0];
                outs[4 * l + k] = shapes[k][1];
            }
        }
        ins[n - 1] = C;
        outs[n - 1] = V;
        Random r = new Random(2);
        float[] x = new float[4 * C], y = new float[V];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        FloatPointer[] pw = new FloatPointer[n];
        QuantizedMatrix[] q8 = new QuantizedMatrix[n], q4 = new QuantizedMatrix[n];
        for (int m = 0; m < n; m++) {
            float[] w = new float[ins[m] * outs[m]];
            for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
            pw[m] = new FloatPointer(w);
            q8[m] = QuantizedMatrix.quantize(QuantType.Q8_0, w, outs[m], ins[m]);
            q4[m] = QuantizedMatrix.quantize(QuantType.Q4_0, w, outs[m], ins[m]);
        }
        FloatPointer px = new FloatPointer(x), py = new FloatPointer(V);
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, threads - 1));
        Q8Activations xq = new Q8Activations();
        Nd4j.factory().blas().setMaxThreads(threads);

        String[] names = {"f32", "q8_0/f32act", "q8_0/q8act", "q4_0/f32act", "q4_0/q8act"};
        Runnable[] variants = {
                () -> {
                    for (int m = 0; m < n; m++) openblas_nolapack.cblas_sgemv(101, 111, outs[m], ins[m], 1f, pw[m], ins[m], px, 1, 0f, py, 1);
                },
                () -> {
                    for (QuantizedMatrix w : q8) split(pool, threads, w.rows(), (a, b) -> w.matmul(x, 1, y, a, b));
                },
                () -> {
                    for (QuantizedMatrix w : q8) {
                        xq.quantize(x, 1, w.cols());
                        split(pool, threads, w.rows(), (a, b) -> w.matmul(xq, y, a, b));
                    }
                },
                () -> {
                    for (QuantizedMatrix w : q4) split(pool, threads, w.rows(), (a, b) -> w.matmul(x, 1, y, a, b));
                },
                () -> {
                    for (QuantizedMatrix w : q4) {
                        xq.quantize(x, 1, w.cols());
                        split(pool, threads, w.rows(), (a, b) -> w.matmul(xq, y, a, b));
                    }
                }};
        // warm-up: every variant long enough for C2
        long until = System.nanoTime() + 8_000_000_000L;
        while (System.nanoTime() < until) for (Runnable v : variants) for (int t = 0; t < tokens; t++) v.run();
        double[][] us = new double[variants.length][rounds];
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < variants.length; k++) {
                int v = (k + round) % variants.length;
                long t0 = System.nanoTime();
                for (int t = 0; t < tokens; t++) variants[v].run();
                us[v][round] = (System.nanoTime() - t0) / 1e3 / tokens;
            }
        }
        System.out.printf(Locale.ROOT, "medium token products (10.6M weights), %d thread(s), %d rounds of %d tokens, alternated%n", threads, rounds, tokens);
        for (int v = 0; v < variants.length; v++) {
            double[] s = us[v].clone();
            Arrays.sort(s);
            System.out.printf(Locale.ROOT, "  %-12s median %8.1f µs/token (min %.1f, max %.1f)%n", names[v], s[rounds / 2], s[0], s[rounds - 1]);
        }
        ratio(us, names, 2, 1, rounds);
        ratio(us, names, 4, 3, rounds);
        ratio(us, names, 2, 0, rounds);
        ratio(us, names, 1, 0, rounds);
        ratio(us, names, 4, 0, rounds);
        pool.shutdown();
    }

    interface Range {
        void run(int from, int to);
    }

    /** body over [0, rows): in two halves over the caller and the pool with 2 threads (at least 64 rows a part). */
    private static void split(ForkJoinPool pool, int threads, int rows, Range body) {
        int parts = Math.min(threads, Math.max(1, rows / 64));
        if (parts == 1) {
            body.run(0, rows);
            return;
        }
        List<ForkJoinTask<?>> rest = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) rows * p / parts), to = (int) ((long) rows * (p + 1) / parts);
            rest.add(pool.submit(() -> body.run(from, to)));
        }
        body.run(0, rows / parts);
        for (ForkJoinTask<?> t : rest) t.join();
    }

    private static void ratio(double[][] us, String[] names, int a, int b, int rounds) {
        double[] q = new double[rounds];
        for (int i = 0; i < rounds; i++) q[i] = us[a][i] / us[b][i];
        Arrays.sort(q);
        System.out.printf(Locale.ROOT, "  %-12s / %-12s time ratio, median of rounds %.3f (quartiles %.3f to %.3f)%n", names[a], names[b],
                q[rounds / 2], q[rounds / 4], q[3 * rounds / 4]);
    }
}
