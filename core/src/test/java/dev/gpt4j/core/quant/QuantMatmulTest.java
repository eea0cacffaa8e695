package dev.gpt4j.core.quant;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The products against dequantize-then-multiply in double, on both the Vector API and the scalar loops, and the
 * properties the callers rely on: a row range computes exactly those rows and nothing else, the result does not
 * depend on how the rows are split or on R, and the transposed product gives the same bits on both paths.
 */
class QuantMatmulTest {
    /** Types with shapes that fit them: F16 also with rows that are no whole number of vectors. */
    record Kind(QuantType type, boolean doubleQuant, int rows, int cols) {
        QuantizedMatrix make(Random r) {
            return QuantizedMatrix.quantize(type, QuantFormatsTest.weights(r, rows, cols), rows, cols, doubleQuant);
        }

        @Override
        public String toString() {
            return type + (doubleQuant ? "+dq" : "") + " [" + rows + ", " + cols + "]";
        }
    }

    static final Kind[] KINDS = {
            new Kind(QuantType.F16, false, 13, 37), new Kind(QuantType.F16, false, 9, 64),
            new Kind(QuantType.Q8_0, false, 13, 96), new Kind(QuantType.Q8_0, false, 4, 32),
            new Kind(QuantType.Q4_0, false, 11, 160), new Kind(QuantType.Q4_0, false, 7, 32),
            new Kind(QuantType.NF4, false, 10, 192), new Kind(QuantType.NF4, true, 9, 128)};
    static final int[] RS = {1, 2, 3, 4, 5, 9};

    @AfterEach
    void restore() {
        QuantizedMatrix.setVectorized(true);
    }

    @Test
    void theTestsRunWithTheVectorApi() {
        // surefire starts the JVM with --add-modules jdk.incubator.vector; without it the vector half of these tests
        // would compare the scalar loops with themselves
        assertTrue(QuantizedMatrix.vectorized(), "the Vector API kernels are off in the test JVM");
    }

    static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @Test
    void matmulEqualsDequantizeThenMultiply() {
        Random r = new Random(21);
        for (boolean vector : new boolean[] {true, false}) {
            QuantizedMatrix.setVectorized(vector);
            for (Kind k : KINDS) {
                QuantizedMatrix m = k.make(r);
                float[] w = m.dequantize();
                int rows = k.rows(), cols = k.cols();
                for (int R : RS) {
                    float[] x = random(r, R * cols);
                    int[][] ranges = {{0, rows}, {1, rows - 2}, {rows / 2, rows / 2 + 1}, {3, 3}, {rows - 1, rows}};
                    for (int[] range : ranges) {
                        float[] y = new float[R * rows + 3];
                        Arrays.fill(y, Float.NaN);
                        m.matmul(x, R, y, range[0], range[1]);
                        String what = (vector ? "vector " : "scalar ") + k + " R " + R + " rows " + Arrays.toString(range);
                        for (int rr = 0; rr < R; rr++) {
                            for (int o = 0; o < rows; o++) {
                                float got = y[rr * rows + o];
                                if (o < range[0] || o >= range[1]) {
                                    assertTrue(Float.isNaN(got), what + ": y[" + rr + ", " + o + "] outside the range was written");
                                    continue;
                                }
                                double ref = 0, mag = 0;
                                for (int i = 0; i < cols; i++) {
                                    ref += (double) x[rr * cols + i] * w[o * cols + i];
                                    mag += Math.abs((double) x[rr * cols + i] * w[o * cols + i]);
                                }
                                assertEquals(ref, got, 1e-5 * mag + 1e-30, what + ": y[" + rr + ", " + o + "]");
                            }
                        }
                        for (int i = R * rows; i < y.length; i++) assertTrue(Float.isNaN(y[i]), what + ": wrote past R × rows");
                    }
                }
            }
        }
    }

    @Test
    void eachOutputIsTheSameWhateverTheRangeOrR() {
        Random r = new Random(22);
        for (boolean vector : new boolean[] {true, false}) {
            QuantizedMatrix.setVectorized(vector);
            for (Kind k : KINDS) {
                QuantizedMatrix m = k.make(r);
                int rows = k.rows(), cols = k.cols(), R = 6;
                float[] x = random(r, R * cols);
                float[] whole = new float[R * rows];
                m.matmul(x, R, whole, 0, rows);
                // the rows split in odd pieces, as threads would take them
                float[] split = new float[R * rows];
                for (int from = 0, step = 1; from < rows; from += step, step += 2) m.matmul(x, R, split, from, Math.min(rows, from + step));
                QuantGgmlFixtureTest.assertBitsEqual(whole, split, (vector ? "vector " : "scalar ") + k + " split");
                // one row of x at a time: the generation path (R = 1) gives the prompt path's bits
                for (int rr = 0; rr < R; rr++) {
                    float[] one = new float[rows];
                    m.matmul(Arrays.copyOfRange(x, rr * cols, (rr + 1) * cols), 1, one, 0, rows);
                    QuantGgmlFixtureTest.assertBitsEqual(Arrays.copyOfRange(whole, rr * rows, (rr + 1) * rows), one, (vector ? "vector " : "scalar ") + k + " R = 1, row " + rr);
                }
            }
        }
    }

    @Test
    void vectorAndScalarMatmulAgreeToRounding() {
        Random r = new Random(23);
        for (Kind k : KINDS) {
            QuantizedMatrix m = k.make(r);
            int R = 5;
            float[] x = random(r, R * k.cols());
            float[] v = new float[R * k.rows()], s = new float[R * k.rows()];
            QuantizedMatrix.setVectorized(true);
            m.matmul(x, R, v, 0, k.rows());
            QuantizedMatrix.setVectorized(false);
            m.matmul(x, R, s, 0, k.rows());
            for (int i = 0; i < v.length; i++) assertEquals(s[i], v[i], 1e-5 * (1 + Math.abs(s[i])), k + " y " + i);
        }
    }

    @Test
    void matmulTransposedAccumulatesTheInputGradient() {
        Random r = new Random(24);
        for (boolean vector : new boolean[] {true, false}) {
            QuantizedMatrix.setVectorized(vector);
            for (Kind k : KINDS) {
                QuantizedMatrix m = k.make(r);
                float[] w = m.dequantize();
                int rows = k.rows(), cols = k.cols();
                for (int R : RS) {
                    float[] dy = random(r, R * rows);
                    int[][] ranges = {{0, cols}, {5, cols - 3}, {cols / 2, cols / 2 + 1}, {7, 7}, {cols - 1, cols}};
                    for (int[] range : ranges) {
                        float[] dx0 = random(r, R * cols);
                        float[] dx = dx0.clone();
                        m.matmulTransposed(dy, R, dx, range[0], range[1]);
                        String what = (vector ? "vector " : "scalar ") + k + " R " + R + " columns " + Arrays.toString(range);
                        for (int rr = 0; rr < R; rr++) {
                            for (int i = 0; i < cols; i++) {
                                int at = rr * cols + i;
                                if (i < range[0] || i >= range[1]) {
                                    assertEquals(Float.floatToRawIntBits(dx0[at]), Float.floatToRawIntBits(dx[at]), what + ": dx[" + rr + ", " + i + "] outside the range changed");
                                    continue;
                                }
                                double ref = dx0[at], mag = Math.abs(dx0[at]);
                                for (int o = 0; o < rows; o++) {
                                    ref += (double) dy[rr * rows + o] * w[o * cols + i];
                                    mag += Math.abs((double) dy[rr * rows + o] * w[o * cols + i]);
                                }
                                assertEquals(ref, dx[at], 1e-5 * mag + 1e-30, what + ": dx[" + rr + ", " + i + "]");
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void matmulTransposedGivesTheSameBitsOnBothPathsAndAnySplit() {
        Random r = new Random(25);
        for (Kind k : KINDS) {
            QuantizedMatrix m = k.make(r);
            int rows = k.rows(), cols = k.cols(), R = 7;
            float[] dy = random(r, R * rows), dx0 = random(r, R * cols);
            QuantizedMatrix.setVectorized(true);
            float[] v = dx0.clone();
            m.matmulTransposed(dy, R, v, 0, cols);
            float[] split = dx0.clone();
            for (int from = 0, step = 3; from < cols; from += step, step += 4) m.matmulTransposed(dy, R, split, from, Math.min(cols, from + step));
            QuantizedMatrix.setVectorized(false);
            float[] s = dx0.clone();
            m.matmulTransposed(dy, R, s, 0, cols);
            QuantGgmlFixtureTest.assertBitsEqual(s, v, k + ": vector against scalar");
            QuantGgmlFixtureTest.assertBitsEqual(v, split, k + ": split columns");
        }
    }

    @Test
    void largerShapesAgreeWithTheReference() {
        // the 'medium' preset's MLP projection shape at R = 1 and a prompt-sized R, for every type
        Random r = new Random(26);
        int rows = 384, cols = 1536;
        for (QuantType t : QuantType.values()) {
            QuantizedMatrix m = QuantizedMatrix.quantize(t, QuantFormatsTest.weights(r, rows, cols), rows, cols, t == QuantType.NF4);
            float[] w = m.dequantize();
            for (int R : new int[] {1, 17}) {
                float[] x = random(r, R * cols), y = new float[R * rows];
                m.matmul(x, R, y, 0, rows);
                for (int rr = 0; rr < R; rr++) {
                    for (int o = 0; o < rows; o += 7) {
                        double ref = 0, mag = 0;
                        for (int i = 0; i < cols; i++) {
                            ref += (double) x[rr * cols + i] * w[o * cols + i];
                            mag += Math.abs((double) x[rr * cols + i] * w[o * cols + i]);
                        }
                        assertEquals(ref, y[rr * rows + o], 1e-5 * mag, t + " R " + R + " y[" + rr + ", " + o + "]");
                    }
                }
            }
        }
    }

    @Test
    void badArgumentsGetClearErrors() {
        QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.Q8_0, new float[4 * 64], 4, 64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.matmul(new float[64], 2, new float[8], 0, 4));
        assertTrue(e.getMessage().contains("x holds 64") && e.getMessage().contains("128"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.matmul(new float[128], 2, new float[7], 0, 4));
        assertTrue(e.getMessage().contains("y holds 7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.matmul(new float[64], 1, new float[4], 2, 5));
        assertThrows(IllegalArgumentException.class, () -> m.matmul(new float[64], 1, new float[4], 3, 2));
        assertThrows(IllegalArgumentException.class, () -> m.matmul(new float[64], -1, new float[4], 0, 4));
        e = assertThrows(IllegalArgumentException.class, () -> m.matmulTransposed(new float[4], 1, new float[64], 0, 65));
        assertTrue(e.getMessage().contains("columns [0, 65) of 64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.matmulTransposed(new float[3], 1, new float[64], 0, 64));
        assertThrows(IllegalArgumentException.class, () -> m.matmulTransposed(new float[4], 1, new float[63], 0, 64));
        assertThrows(IndexOutOfBoundsException.class, () -> m.dequantizeRow(4, new float[64]));
        assertThrows(IllegalArgumentException.class, () -> m.dequantizeRow(0, new float[63]));
        m.matmul(new float[0], 0, new float[0], 0, 4); // R = 0 does nothing
    }
}
