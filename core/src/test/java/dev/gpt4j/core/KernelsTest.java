package dev.gpt4j.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The fused float32 kernels ({@link Kernels}, {@link CausalAttention}) against the ND4J composition they replace:
 * the same model and the same optimizer run both ways, in float32. The ND4J path is the one the finite-difference
 * checks cover (in double), so this closes the loop for the path training actually takes.
 */
class KernelsTest {
    @AfterEach
    void restore() {
        Kernels.setEnabled(true);
        Kernels.setVectorized(true);
        CausalAttention.setEnabled(false);
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
        Kernels.geluTanh(x, v, x.length - 3); // the last three by the scalar tail
        Kernels.setVectorized(false);
        Kernels.geluTanh(x, s, x.length - 3);
        for (int i = 0; i < x.length; i++) {
            int k = i;
            assertEquals(Float.floatToIntBits(s[i]), Float.floatToIntBits(v[i]), () -> "geluTanh(" + x[k] + "): vector " + v[k] + ", scalar " + s[k]);
        }
    }

    @Test
    void aTrainingStepGivesTheSameBitsWithAndWithoutTheVectorApi() {
        GptConfig cfg = new GptConfig(97, 24, 32, 2, 4, 0.1, 1e-5, true, true);
        Kernels.setVectorized(true);
        double[][] a = run(cfg, true, 3, 24, null);
        Kernels.setVectorized(false);
        double[][] b = run(cfg, true, 3, 24, null);
        assertArrayEquals(b[0], a[0]);
        assertArrayEquals(b[1], a[1], "a run must resume bit for bit on a JVM with or without the module");
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

    /** Loss and every gradient of one forward/backward, with the kernels on or off. */
    private static double[][] run(GptConfig cfg, boolean kernels, int B, int T, float[] weights) {
        return run(cfg, kernels, "heads", B, T, weights);
    }

    /** attention: "heads" (the default), "blas" or "nd4j"; with kernels off, ND4J's attention always. */
    private static double[][] run(GptConfig cfg, boolean kernels, String attention, int B, int T, float[] weights) {
        Kernels.setEnabled(kernels);
        CausalAttention.setEnabled(attention.equals("blas"));
        HeadAttention.setEnabled(!attention.equals("nd4j"));
        try (GptModel m = GptModel.create(cfg, 3)) {
            Random rnd = new Random(8);
            INDArray flat = m.params().values();
            // larger weights than GPT-2's 0.02, so that attention is not uniform and every path carries gradient
            INDArray noise = Nd4j.create(DataType.FLOAT, flat.length());
            for (long i = 0; i < flat.length(); i++) noise.putScalar(i, (float) (rnd.nextGaussian() * 0.2));
            flat.addi(noise.reshape(flat.shape()));
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
            return new double[][] {{loss}, m.params().grads().toDoubleVector()};
        } finally {
            CausalAttention.setEnabled(false);
            HeadAttention.setEnabled(true);
        }
    }

    private static void assertSamePaths(GptConfig cfg, int B, int T, float[] weights) {
        assertSame(run(cfg, true, B, T, weights), run(cfg, false, B, T, weights), cfg.toString());
    }

    private static void assertSame(double[][] fused, double[][] nd4j, String what) {
        assertEquals(nd4j[0][0], fused[0][0], 1e-5 * Math.abs(nd4j[0][0]), "loss");
        double maxAbs = 0, maxDiff = 0;
        int worst = -1;
        for (int i = 0; i < nd4j[1].length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(nd4j[1][i]));
            double d = Math.abs(nd4j[1][i] - fused[1][i]);
            if (d > maxDiff) {
                maxDiff = d;
                worst = i;
            }
        }
        assertTrue(maxAbs > 0, "some gradient");
        int w = worst;
        double diff = maxDiff, largest = maxAbs;
        assertTrue(maxDiff <= 1e-4 * maxAbs, () -> what + ": gradient " + w + " differs by " + diff + " (largest gradient " + largest
                + "): fused " + fused[1][w] + ", ND4J " + nd4j[1][w]);
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

    @Test
    void attentionPathsMatchTheNd4jAttention() {
        // the Java heads (the default) and the per-head BLAS products (off: see CausalAttention) against ND4J's
        // batched attention, all with the fused kernels and dropout
        GptConfig cfg = new GptConfig(50, 16, 24, 2, 3, 0.2, 1e-5, true, true);
        double[][] nd4j = run(cfg, true, "nd4j", 2, 16, null);
        assertSame(run(cfg, true, "heads", 2, 16, null), nd4j, "Java heads");
        assertSame(run(cfg, true, "blas", 2, 16, null), nd4j, "BLAS attention");
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
        for (int k = 0; k < 2; k++) {
            Kernels.setEnabled(k == 0);
            INDArray p = Nd4j.createFromArray(p0.clone()), g = Nd4j.createFromArray(g0.clone()), m = Nd4j.createFromArray(mask);
            AdamW opt = new AdamW(p, g, m, 0.9, 0.95, 1e-8, 0.1);
            for (int step = 0; step < 3; step++) {
                opt.step(1e-2);
                g.muli(-0.7); // a different gradient each step
            }
            out[k] = p.toDoubleVector();
        }
        for (int i = 0; i < n; i++) assertEquals(out[1][i], out[0][i], 2e-6 * Math.max(1, Math.abs(out[1][i])), "parameter " + i);
    }

    @Test
    void resultsDoNotDependOnTheRun() {
        GptConfig cfg = new GptConfig(97, 24, 32, 2, 4, 0.1, 1e-5, true, true);
        double[][] a = run(cfg, true, 3, 24, null), b = run(cfg, true, 3, 24, null);
        assertArrayEquals(a[0], b[0]);
        assertArrayEquals(a[1], b[1], "bit for bit: exact resume depends on it");
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
