package dev.gpt4j.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Java attention (per head, on the causal triangle) against the same layer computed in double by ND4J's path, with
 * and without dropout, with and without a KV cache; and its Vector API loops against its scalar ones, bit for bit.
 */
class AttentionTest {
    /** (B, T, H, C): hs 12 (no whole vector: scalar columns), 64 (whole vectors), 40 (vectors and a tail); odd T. */
    private static final int[][] SHAPES = {{2, 7, 3, 36}, {2, 37, 2, 128}, {1, 45, 1, 40}, {3, 4, 2, 16}};

    private static INDArray random(DataType dtype, long seed, double scale, long... shape) {
        Random r = new Random(seed);
        long n = 1;
        for (long d : shape) n *= d;
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = scale * r.nextGaussian();
        return Nd4j.createFromArray(v).castTo(dtype).reshape('c', shape);
    }

    /** y, dqkv, the probabilities and the dropped probabilities of one forward and backward of the layer. */
    private static INDArray[] run(DataType dtype, int[] s, boolean drop, Compute compute) {
        int B = s[0], T = s[1], H = s[2], C = s[3];
        INDArray qkv = random(dtype, 1, 1.5, (long) B * T, 3L * C), dy = random(dtype, 2, 1, (long) B * T, C);
        INDArray y = Nd4j.create(dtype, (long) B * T, C), dqkv = Nd4j.create(dtype, (long) B * T, 3L * C);
        // a fixed mask (scaled by 1/(1-p) with p = 0.25), the same for both paths
        INDArray mask = random(DataType.DOUBLE, 3, 1, B, H, T, T).gt(-0.674).castTo(dtype).muli(1 / 0.75);
        BiConsumer<INDArray, INDArray> dropout = (a, m) -> {
            m.assign(mask);
            a.muli(m);
        };
        Attention.Rows rows = Attention.Rows.batch(B, T);
        Attention.Saved saved = new Attention.Saved(compute, qkv, y, B, T, H, drop);
        Attention.forward(compute, qkv, y, rows, H, null, 0, saved, drop, dropout);
        Attention.backward(compute, qkv, dy, rows, H, saved, drop, dqkv);
        return new INDArray[] {y.dup(), dqkv.dup(), saved.prob.dup(), saved.dropped.dup()};
    }

    @Test
    void matchesTheDoublePrecisionNd4jPath() {
        for (int[] s : SHAPES) {
            for (boolean drop : new boolean[] {false, true}) {
                INDArray[] ref = run(DataType.DOUBLE, s, drop, Compute.ND4J);
                INDArray[] got = run(DataType.FLOAT, s, drop, Compute.JAVA);
                String[] names = {"y", "dqkv", "probabilities", "after dropout"};
                for (int i = 0; i < ref.length; i++) {
                    double[] r = ref[i].reshape(-1).toDoubleVector(), g = got[i].castTo(DataType.DOUBLE).reshape(-1).toDoubleVector();
                    double scale = 0;
                    for (double v : r) scale = Math.max(scale, Math.abs(v));
                    for (int k = 0; k < r.length; k++) {
                        if (Math.abs(r[k] - g[k]) > 2e-6 * scale + 1e-7) {
                            fail(names[i] + " differs at " + k + " for shape " + java.util.Arrays.toString(s) + (drop ? " with dropout" : "")
                                    + ": " + g[k] + " against " + r[k]);
                        }
                    }
                }
                float[] p = got[2].reshape(-1).toFloatVector();
                int T = s[1];
                for (int r = 0; r < p.length / T; r++) {
                    for (int j = r % T + 1; j < T; j++) assertEquals(0f, p[r * T + j], "above the diagonal");
                }
            }
        }
    }

    @Test
    void vectorLoopsGiveTheScalarLoopsBits() {
        assumeVectorApi();
        for (int[] s : SHAPES) {
            for (boolean drop : new boolean[] {false, true}) {
                Kernels.setVectorized(false);
                INDArray[] scalar;
                try {
                    scalar = run(DataType.FLOAT, s, drop, Compute.JAVA);
                } finally {
                    Kernels.setVectorized(true);
                }
                INDArray[] vector = run(DataType.FLOAT, s, drop, Compute.JAVA);
                for (int i = 0; i < scalar.length; i++) {
                    assertArrayEquals(scalar[i].reshape(-1).toFloatVector(), vector[i].reshape(-1).toFloatVector(),
                            "array " + i + ", shape " + java.util.Arrays.toString(s) + (drop ? " with dropout" : ""));
                }
            }
        }
    }

    /**
     * The three products element by element against double sums (each is a chain of float fmas), without an offset
     * (training) and with P earlier positions (queries after a KV cache's), vector loops and scalar ones giving the
     * same bits.
     */
    @Test
    void productsMatchDoubleSums() {
        for (int P : new int[] {0, 5, 40}) {
            float[][] vec = null;
            for (boolean vector : new boolean[] {false, true}) {
                if (vector && !Kernels.vectorApiAvailable()) continue;
                float[][] got = products(37, P, 40, vector);
                if (vec == null) vec = got;
                else for (int k = 0; k < got.length; k++) assertArrayEquals(vec[k], got[k], "product " + k + " with P = " + P);
            }
        }
    }

    private static float[][] products(int T, int P, int hs, boolean vector) {
        int Tp = Attention.stride(P + T), N = P + T;
        Random r = new Random(5 + P);
        float[] a = new float[T * hs], x = new float[N * hs], bt = new float[hs * Tp], p = new float[T * Tp];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < bt.length; i++) bt[i] = (float) r.nextGaussian();
        for (int i = 0; i < T; i++) for (int j = 0; j <= P + i; j++) p[i * Tp + j] = (float) r.nextGaussian();
        Kernels.setVectorized(vector);
        try {
            float[] out = new float[T * Tp];
            Attention.lowerABt(a, 0, bt, 0, Tp, T, P, hs, out, Tp);
            for (int i = 0; i < T; i++) for (int j = 0; j <= P + i; j++) {
                double e = 0;
                for (int d = 0; d < hs; d++) e += (double) a[i * hs + d] * bt[d * Tp + j];
                assertEquals(e, out[i * Tp + j], 1e-5 * (1 + Math.abs(e)), "lowerABt " + i + "," + j + " vector " + vector + " P " + P);
            }
            float[] o2 = new float[T * hs];
            Attention.lowerPX(p, Tp, x, 0, T, P, hs, o2);
            for (int i = 0; i < T; i++) for (int c = 0; c < hs; c++) {
                double e = 0;
                for (int j = 0; j <= P + i; j++) e += (double) p[i * Tp + j] * x[j * hs + c];
                assertEquals(e, o2[i * hs + c], 1e-5 * (1 + Math.abs(e)), "lowerPX " + i + "," + c + " vector " + vector + " P " + P);
            }
            float[] o3 = new float[T * hs];
            if (P == 0) {
                Attention.upperTX(p, Tp, x, T, hs, o3);
                for (int j = 0; j < T; j++) for (int c = 0; c < hs; c++) {
                    double e = 0;
                    for (int i = j; i < T; i++) e += (double) p[i * Tp + j] * x[i * hs + c];
                    assertEquals(e, o3[j * hs + c], 1e-5 * (1 + Math.abs(e)), "upperTX " + j + "," + c + " vector " + vector);
                }
            }
            float[] lower = new float[T * Tp];
            for (int i = 0; i < T; i++) System.arraycopy(out, i * Tp, lower, i * Tp, P + i + 1); // what may be read
            return new float[][] {lower, o2, o3};
        } finally {
            Kernels.setVectorized(true);
        }
    }

    /**
     * A prompt's rows in chunks and then one row at a time through a KV cache give the attention of the whole sequence at
     * once (the training forward's), on both paths; and the Java path's cached rows match the ND4J path's.
     */
    @Test
    void cachedRowsMatchTheWholeSequence() {
        GptConfig cfg = new GptConfig(50, 40, 36, 1, 3, 0.0, 1e-5, true, true);
        int H = cfg.heads(), C = cfg.embedDim(), N = 23;
        INDArray qkv = random(DataType.FLOAT, 9, 1.5, N, 3L * C);
        INDArray whole = Nd4j.create(DataType.FLOAT, N, C);
        Attention.Saved saved = new Attention.Saved(Compute.JAVA, qkv, whole, 1, N, H, false);
        Attention.forward(Compute.JAVA, qkv, whole, Attention.Rows.batch(1, N), H, null, 0, saved, false, null);
        INDArray[] byPath = new INDArray[2];
        for (Compute compute : Compute.values()) {
            KvCache cache = new KvCache(cfg, compute, DataType.FLOAT, 2);
            INDArray y = Nd4j.create(DataType.FLOAT, N, C);
            int[][] chunks = {{0, 9}, {9, 16}, {16, 17}, {17, 18}, {18, 23}};
            for (int[] ch : chunks) {
                int T = ch[1] - ch[0];
                INDArray part = qkv.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(ch[0], ch[1]), org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
                INDArray out = Nd4j.create(DataType.FLOAT, T, C);
                // the sequence is cache row 1: row 0 holds nothing
                Attention.forward(compute, part, out, new Attention.Rows(1, T, new int[] {1}, new int[] {ch[0]}), H, cache, 0, null, false, null);
                cache.advance(1, T);
                y.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(ch[0], ch[1]), org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(out);
            }
            double diff = Math.abs(y.sub(whole).maxNumber().doubleValue()) + Math.abs(y.sub(whole).minNumber().doubleValue());
            assertTrue(diff < 1e-5, compute + ": cached rows differ from the whole sequence's by " + diff);
            byPath[compute.ordinal()] = y;
        }
        double d = byPath[0].sub(byPath[1]).norm1Number().doubleValue();
        assertTrue(d < 1e-4, "Java and ND4J cached attention differ by " + d + " in all");
    }

    private static void assumeVectorApi() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Kernels.vectorApiAvailable(), "the JVM runs without jdk.incubator.vector");
    }
}
