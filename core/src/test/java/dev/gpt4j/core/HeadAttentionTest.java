package dev.gpt4j.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Java per-head attention (the FLOAT default) against the same layer computed in double by ND4J's path, with
 * and without dropout; and its Vector API loops against its scalar ones, bit for bit.
 */
class HeadAttentionTest {
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

    /** y, dqkv, attProb and attDrop of one forward and backward of an AttentionCore. */
    private static INDArray[] run(DataType dtype, int[] s, boolean drop, boolean heads) {
        int B = s[0], T = s[1], H = s[2], C = s[3];
        INDArray qkv = random(dtype, 1, 1.5, (long) B * T, 3L * C), dy = random(dtype, 2, 1, (long) B * T, C);
        INDArray y = Nd4j.create(dtype, (long) B * T, C), dqkv = Nd4j.create(dtype, (long) B * T, 3L * C);
        // a fixed mask (scaled by 1/(1-p) with p = 0.25), the same for both paths
        INDArray mask = random(DataType.DOUBLE, 3, 1, B, H, T, T).gt(-0.674).castTo(dtype).muli(1 / 0.75);
        BiConsumer<INDArray, INDArray> dropout = (a, m) -> {
            m.assign(mask);
            a.muli(m);
        };
        boolean was = HeadAttention.enabled();
        HeadAttention.setEnabled(heads);
        try {
            AttentionCore core = new AttentionCore(qkv, y, B, T, H, drop);
            core.forward(drop, dropout);
            core.backward(dy, drop, new AttentionCore.Scratch(B, T, C, H, dtype), dqkv);
            return new INDArray[] {y.dup(), dqkv.dup(), core.attProb.dup(), core.attDrop.dup()};
        } finally {
            HeadAttention.setEnabled(was);
        }
    }

    @Test
    void matchesTheDoublePrecisionNd4jPath() {
        for (int[] s : SHAPES) {
            for (boolean drop : new boolean[] {false, true}) {
                INDArray[] ref = run(DataType.DOUBLE, s, drop, false);
                INDArray[] got = run(DataType.FLOAT, s, drop, true);
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
                    scalar = run(DataType.FLOAT, s, drop, true);
                } finally {
                    Kernels.setVectorized(true);
                }
                INDArray[] vector = run(DataType.FLOAT, s, drop, true);
                for (int i = 0; i < scalar.length; i++) {
                    assertArrayEquals(scalar[i].reshape(-1).toFloatVector(), vector[i].reshape(-1).toFloatVector(),
                            "array " + i + ", shape " + java.util.Arrays.toString(s) + (drop ? " with dropout" : ""));
                }
            }
        }
    }

    /** The three products element by element against double sums (each is a chain of float fmas). */
    @Test
    void productsMatchDoubleSums() {
        int T = 37, hs = 40, Tp = HeadAttention.stride(T);
        Random r = new Random(5);
        float[] a = new float[T * hs], x = new float[T * hs], bt = new float[hs * Tp], p = new float[T * Tp];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < bt.length; i++) bt[i] = (float) r.nextGaussian();
        for (int i = 0; i < T; i++) for (int j = 0; j <= i; j++) p[i * Tp + j] = (float) r.nextGaussian();
        for (boolean vector : new boolean[] {false, true}) {
            if (vector && !Kernels.vectorApiAvailable()) continue;
            Kernels.setVectorized(vector);
            try {
                float[] out = new float[T * Tp];
                HeadAttention.lowerABt(a, bt, T, hs, Tp, out);
                for (int i = 0; i < T; i++) for (int j = 0; j <= i; j++) {
                    double e = 0;
                    for (int d = 0; d < hs; d++) e += (double) a[i * hs + d] * bt[d * Tp + j];
                    assertEquals(e, out[i * Tp + j], 1e-5 * (1 + Math.abs(e)), "lowerABt " + i + "," + j + " vector " + vector);
                }
                float[] o2 = new float[T * hs];
                HeadAttention.lowerPX(p, Tp, x, T, hs, o2);
                for (int i = 0; i < T; i++) for (int c = 0; c < hs; c++) {
                    double e = 0;
                    for (int j = 0; j <= i; j++) e += (double) p[i * Tp + j] * x[j * hs + c];
                    assertEquals(e, o2[i * hs + c], 1e-5 * (1 + Math.abs(e)), "lowerPX " + i + "," + c + " vector " + vector);
                }
                HeadAttention.upperTX(p, Tp, x, T, hs, o2);
                for (int j = 0; j < T; j++) for (int c = 0; c < hs; c++) {
                    double e = 0;
                    for (int i = j; i < T; i++) e += (double) p[i * Tp + j] * x[i * hs + c];
                    assertEquals(e, o2[j * hs + c], 1e-5 * (1 + Math.abs(e)), "upperTX " + j + "," + c + " vector " + vector);
                }
            } finally {
                Kernels.setVectorized(true);
            }
        }
    }

    private static void assumeVectorApi() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Kernels.vectorApiAvailable(), "the JVM runs without jdk.incubator.vector");
    }
}
