package dev.gpt4j.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Java path ({@link Compute#JAVA}: the kernels of every layer, OpenBLAS products, the heap KV cache) against the
 * ND4J path it replaces: the same model and the same optimizer run both ways, in float32, from the loss and every
 * gradient to a prompt's prefill and the decode steps after it. The ND4J path is the one the finite-difference checks
 * cover (in double), so this closes the loop for the path training and generation actually take, and keeps the ND4J
 * path (the CUDA backend's) from rotting.
 */
class KernelsTest {
    @AfterEach
    void restore() {
        Kernels.setVectorized(true);
    }

    @Test
    void theTestsRunWithTheVectorApi() {
        // surefire starts the JVM with --add-modules jdk.incubator.vector; without it the tests below compare the
        // scalar loops with themselves
        assertTrue(Kernels.vectorized(), "the Vector API module is missing from the test JVM");
    }

    /** Inputs for the exp comparisons: a dense sweep, random values, and every edge of the scalar code. */
    private static float[] expInputs() {
        float[] edges = {0f, -0f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -87.3f,
                Math.nextDown(-87.3f), Math.nextUp(-87.3f), 88.72f, Math.nextUp(88.72f), Math.nextDown(88.72f), 88.0f,
                88.03f, 88.5f, 88.7f, -1000f, 1000f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, 1e-20f};
        Random r = new Random(11);
        int sweep = 200_001, rnd = 100_000;
        float[] x = new float[edges.length + sweep + rnd];
        System.arraycopy(edges, 0, x, 0, edges.length);
        for (int i = 0; i < sweep; i++) x[edges.length + i] = -100f + 200f * i / (sweep - 1);
        for (int i = 0; i < rnd; i++) x[edges.length + sweep + i] = (float) (r.nextGaussian() * 30);
        return x;
    }

    @Test
    void vectorExpGivesTheScalarBits() {
        float[] x = expInputs();
        for (float shift : new float[] {0f, 3.5f, -2f}) {
            // every length up to a few vector widths, so that the scalar tail is covered too
            for (int n : new int[] {0, 1, 5, 15, 16, 17, 31, 33, 100, x.length}) {
                float[] v = java.util.Arrays.copyOf(x, n), s = v.clone();
                Kernels.setVectorized(true);
                Kernels.expShifted(v, n, shift);
                Kernels.setVectorized(false);
                Kernels.expShifted(s, n, shift);
                for (int i = 0; i < n; i++) {
                    int k = i;
                    assertEquals(Float.floatToIntBits(s[i]), Float.floatToIntBits(v[i]),
                            () -> "exp(" + x[k] + " - " + shift + "): vector " + v[k] + ", scalar " + s[k]);
                }
            }
        }
    }

    @Test
    void vectorGeluGivesTheScalarBits() {
        float[] x = expInputs();
        for (int i = 0; i < x.length; i++) x[i] /= 8; // GELU's inputs are activations: mostly in [-10, 10]
        float[] v = new float[x.length], s = new float[x.length];
        Kernels.setVectorized(true);
        Gelu.tanh(x, v, x.length - 3); // the last three by the scalar tail
        Kernels.setVectorized(false);
        Gelu.tanh(x, s, x.length - 3);
        for (int i = 0; i < x.length; i++) {
            int k = i;
            assertEquals(Float.floatToIntBits(s[i]), Float.floatToIntBits(v[i]), () -> "geluTanh(" + x[k] + "): vector " + v[k] + ", scalar " + s[k]);
        }
    }

    @Test
    void aTrainingStepGivesTheSameBitsWithAndWithoutTheVectorApi() {
        GptConfig cfg = new GptConfig(97, 24, 32, 2, 4, 0.1, 1e-5, true, true);
        Kernels.setVectorized(true);
        Map<String, double[]> a = run(cfg, Compute.JAVA, 3, 24, null);
        Kernels.setVectorized(false);
        Map<String, double[]> b = run(cfg, Compute.JAVA, 3, 24, null);
        for (String k : a.keySet()) assertArrayEquals(b.get(k), a.get(k), k + ": a run must resume bit for bit on a JVM with or without the module");
    }

    @Test
    void expIsWithinTwoUlpsOfMathExp() {
        double worst = 0;
        float at = 0;
        for (float x = -87.3f; x <= 88.7f; x += 0.00037f) {
            double ref = Math.exp(x);
            double ulps = Math.abs(Kernels.exp(x) - ref) / Math.ulp((float) ref);
            if (ulps > worst) {
                worst = ulps;
                at = x;
            }
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp at x = " + at);
        assertEquals(0f, Kernels.exp(Float.NEGATIVE_INFINITY)); // a masked score
        assertEquals(0f, Kernels.exp(-1000f));
        assertEquals(Float.POSITIVE_INFINITY, Kernels.exp(89f));
        assertEquals(1f, Kernels.exp(0f));
        assertTrue(Float.isNaN(Kernels.exp(Float.NaN)), "NaN must reach the loss, where the trainer stops on it");
        // 2^128 is not a float: just below e^88.72 the result is still finite
        assertEquals(Math.exp((double) 88.7f), Kernels.exp(88.7f), Math.ulp((float) Math.exp((double) 88.7f)) * 2);
    }

    @Test
    void rowReductionsMatchPlainLoops() {
        Random r = new Random(4);
        for (int n : new int[] {0, 1, 3, 4, 7, 256, 1001}) {
            float[] a = new float[n], b = new float[n];
            double sum = 0, dot = 0;
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                a[i] = (float) r.nextGaussian();
                b[i] = (float) r.nextGaussian();
                sum += a[i];
                dot += (double) (a[i] * b[i]);
                max = Math.max(max, a[i]);
            }
            assertEquals(sum, Kernels.sum(a, n), 1e-9, "sum of " + n);
            assertEquals(dot, Kernels.dot(a, b, n), 1e-9, "dot of " + n);
            assertEquals(max, Kernels.max(a, n), "max of " + n);
        }
    }

    /** Loss and every gradient of one forward/backward on one path, by tensor name. */
    private static Map<String, double[]> run(GptConfig cfg, Compute compute, int B, int T, float[] weights) {
        try (GptModel m = model(cfg, compute)) {
            Random rnd = new Random(8);
            int[] tokens = new int[B * T], targets = new int[B * T];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = rnd.nextInt(cfg.vocabSize());
                targets[i] = i % 7 == 3 ? GptModel.IGNORE : rnd.nextInt(cfg.vocabSize());
            }
            m.train();
            m.setDropoutStep(5);
            double loss = m.forward(tokens, targets, weights, B, T);
            m.zeroGrad();
            m.backward();
            Map<String, double[]> out = new LinkedHashMap<>();
            out.put("loss", new double[] {loss});
            for (Parameters.Slot s : m.params().slots()) out.put(s.name(), m.params().grad(s.name()).dup().reshape(-1).toDoubleVector());
            return out;
        }
    }

    /** A model with larger weights than GPT-2's 0.02, so that attention is not uniform and every path carries gradient. */
    private static GptModel model(GptConfig cfg, Compute compute) {
        GptModel m = GptModel.create(cfg, 3, DataType.FLOAT, compute);
        Random rnd = new Random(8);
        INDArray flat = m.params().values();
        INDArray noise = Nd4j.create(DataType.FLOAT, flat.length());
        for (long i = 0; i < flat.length(); i++) noise.putScalar(i, (float) (rnd.nextGaussian() * 0.2));
        flat.addi(noise.reshape(flat.shape()));
        return m;
    }

    private static void assertSamePaths(GptConfig cfg, int B, int T, float[] weights) {
        assertSame(run(cfg, Compute.JAVA, B, T, weights), run(cfg, Compute.ND4J, B, T, weights), cfg.toString());
    }

    /**
     * The loss within 1e-5 relative, and each tensor's gradient within 1e-4 of that tensor's largest (a tolerance per
     * tensor, so that a small tensor, a bias or a LayerNorm weight, cannot be wrong unnoticed next to a large one).
     */
    private static void assertSame(Map<String, double[]> java, Map<String, double[]> nd4j, String what) {
        assertEquals(nd4j.get("loss")[0], java.get("loss")[0], 1e-5 * Math.abs(nd4j.get("loss")[0]), "loss");
        for (String name : nd4j.keySet()) {
            if (name.equals("loss")) continue;
            double[] ref = nd4j.get(name), got = java.get(name);
            double maxAbs = 0, maxDiff = 0;
            int worst = -1;
            for (int i = 0; i < ref.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
                double d = Math.abs(ref[i] - got[i]);
                if (d > maxDiff) {
                    maxDiff = d;
                    worst = i;
                }
            }
            assertTrue(maxAbs > 0, what + ": " + name + " has no gradient");
            int w = worst;
            double diff = maxDiff, largest = maxAbs;
            assertTrue(maxDiff <= 1e-4 * maxAbs, () -> what + ": " + name + "[" + w + "] differs by " + diff + " (its largest gradient "
                    + largest + "): Java " + got[w] + ", ND4J " + ref[w]);
        }
    }

    @Test
    void modelMatchesTheNd4jPathWithTiedHeadAndBias() {
        assertSamePaths(new GptConfig(97, 24, 32, 2, 4, 0.0, 1e-5, true, true), 3, 24, null);
    }

    @Test
    void modelMatchesTheNd4jPathWithSeparateHeadNoBiasAndLossWeights() {
        float[] w = new float[2 * 17];
        for (int i = 0; i < w.length; i++) w[i] = i % 3 == 0 ? 0f : 0.5f + i % 4;
        assertSamePaths(new GptConfig(61, 17, 24, 3, 3, 0.0, 1e-5, false, false), 2, 17, w);
    }

    @Test
    void modelMatchesTheNd4jPathWithDropout() {
        // the masks come from one RNG stream in one order on both paths, so they are the same masks
        assertSamePaths(new GptConfig(50, 16, 16, 2, 2, 0.2, 1e-5, true, true), 2, 16, null);
    }

    /** Generation: a prefill in two chunks, then decode steps of two sequences, logits on both paths. */
    @Test
    void generationMatchesTheNd4jPath() {
        GptConfig cfg = new GptConfig(61, 40, 48, 2, 4, 0.1, 1e-5, true, false);
        float[][][] out = new float[2][][];
        for (Compute compute : Compute.values()) {
            try (GptModel m = model(cfg, compute); KvCache cache = m.newKvCache(3)) {
                m.eval();
                List<float[]> logits = new ArrayList<>();
                logits.add(m.prefill(cache, 2, new int[] {3, 14, 15, 9, 26, 5, 35}));
                logits.add(m.prefill(cache, 2, new int[] {8, 9, 7}));
                logits.add(m.prefill(cache, 0, new int[] {1, 2}));
                for (int s = 0; s < 4; s++) logits.add(m.step(cache, new int[] {0, 2}, new int[] {s + 10, 2 * s}, new float[2 * 61]).clone());
                out[compute.ordinal()] = logits.toArray(new float[0][]);
            }
        }
        for (int k = 0; k < out[0].length; k++) {
            for (int i = 0; i < out[0][k].length; i++) {
                assertEquals(out[1][k][i], out[0][k][i], 2e-5 * (1 + Math.abs(out[1][k][i])), "logit " + i + " of call " + k);
            }
        }
    }

    @Test
    void adamWMatchesTheNd4jPath() {
        int n = 50_001; // more than one chunk, not a multiple of one
        Random r = new Random(2);
        float[] p0 = new float[n], g0 = new float[n], mask = new float[n];
        for (int i = 0; i < n; i++) {
            p0[i] = (float) r.nextGaussian();
            g0[i] = (float) (r.nextGaussian() * 0.1);
            mask[i] = i % 3 == 0 ? 0 : 1;
        }
        double[][] out = new double[2][];
        for (Compute compute : Compute.values()) {
            INDArray p = Nd4j.createFromArray(p0.clone()), g = Nd4j.createFromArray(g0.clone()), m = Nd4j.createFromArray(mask);
            AdamW opt = new AdamW(p, g, m, 0.9, 0.95, 1e-8, 0.1, compute);
            for (int step = 0; step < 3; step++) {
                opt.step(1e-2);
                g.muli(-0.7); // a different gradient each step
            }
            out[compute.ordinal()] = p.toDoubleVector();
        }
        for (int i = 0; i < n; i++) assertEquals(out[1][i], out[0][i], 2e-6 * Math.max(1, Math.abs(out[1][i])), "parameter " + i);
    }

    @Test
    void resultsDoNotDependOnTheRun() {
        GptConfig cfg = new GptConfig(97, 24, 32, 2, 4, 0.1, 1e-5, true, true);
        Map<String, double[]> a = run(cfg, Compute.JAVA, 3, 24, null), b = run(cfg, Compute.JAVA, 3, 24, null);
        for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), k + ", bit for bit: exact resume depends on it");
    }
    /**
     * The token-embedding gradient, repeated: the same bits every time. A batch of few distinct tokens, token 0
     * among them, is the case where ND4J's scatter_add (used here before) lost token 0's row now and then: its
     * threads updated that row at once from the real row and from zero padding rows. Lost in ~0.3% of calls on
     * this machine, so 1,500 repeats miss it with a chance of about 1%.
     */
    @Test
    void theEmbeddingGradientIsTheSameOnEveryRepeat() {
        GptConfig cfg = new GptConfig(32, 16, 48, 1, 4, 0.0, 1e-5, true, false);
        int B = 8, T = 16, V = cfg.vocabSize(), C = cfg.embedDim();
        int[] tokens = new int[B * T], targets = new int[B * T];
        Random rnd = new Random(4);
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = i % 5 == 0 ? 0 : rnd.nextInt(10);
            targets[i] = rnd.nextInt(V);
        }
        try (GptModel m = GptModel.create(cfg, 3)) {
            m.train();
            INDArray g = m.params().grad("wte.weight");
            float[] first = null;
            for (int r = 0; r < 1500; r++) {
                m.zeroGrad();
                m.forward(tokens, targets, B, T);
                m.backward();
                float[] now = g.dup().data().asFloat();
                if (first == null) {
                    first = now;
                    for (int c = 0; c < C; c++) assertNotEquals(0f, first[c], "token 0 has a gradient");
                } else {
                    for (int i = 0; i < first.length; i++) {
                        if (Float.floatToIntBits(first[i]) != Float.floatToIntBits(now[i])) {
                            fail("repeat " + r + ": wte gradient of token " + i / C + ", column " + i % C + " is " + now[i] + ", was " + first[i]);
                        }
                    }
                }
            }
        }
    }
}
