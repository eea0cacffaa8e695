package dev.gpt4j.core.quant;

import dev.gpt4j.core.Float16;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Products with activations quantized to Q8_0 as llama.cpp does ({@link Q8Activations},
 * {@link QuantizedMatrix#matmul(Q8Activations, float[], int, int)}), on the Vector API and the scalar loops:
 * the quantized activations against the definition written out here and, byte for byte, against llama.cpp's own
 * {@code quantize_row_q8_0} (quant/ggml_q8_activations_fixture.txt, written by
 * core/src/test/python/ggml_q8_activations_fixture.py from a released libggml-cpu); the products against the
 * definition in double (integer block sums, scaled by d_w · d_x) and against llama.cpp's {@code ggml_vec_dot_q8_0_q8_0}
 * and {@code ggml_vec_dot_q4_0_q8_0} on the fixture; row ranges and R do not change a bit.
 */
class QuantQ8ActivationsTest {
    @AfterEach
    void restore() {
        QuantizedMatrix.setVectorized(true);
    }

    // ---------------------------------------------------------------------------------------------- the definition

    /** Block-wise: d = fp16(amax / 127), q = rint(x · (127 / amax)) to even, as ggml-cpu's x86 quantize_row_q8_0. */
    static int[] refQuants(float[] x, float[] scales) {
        int[] q = new int[x.length];
        for (int b = 0; b < x.length / 32; b++) {
            float amax = 0f;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
            scales[b] = Float16.toFloat(Float16.fromFloat(amax / 127f));
            float id = amax == 0f ? 0f : 127f / amax;
            for (int j = 0; j < 32; j++) {
                float t = x[32 * b + j] * id;
                q[32 * b + j] = Float.isFinite(t) ? (int) Math.rint(t) : -128;
            }
        }
        return q;
    }

    /**
     * y[o] for one row of activations: Σ_b (Σ_j qw · qx) · d_w · d_x, in double. Also Σ_b Σ_j |qw · qx| · |d_w · d_x|
     * in mag[0], the scale of the float rounding (the lane sums of a block may cancel less than its whole sum).
     */
    static double refDot(QuantizedMatrix m, int o, int[] qx, float[] dx, double[] mag) {
        float[] w = new float[m.cols];
        ScalarQuantKernels.dequantize(m, o, 0, m.blocksPerRow, w, 0);
        double s = 0, a = 0;
        for (int b = 0; b < m.blocksPerRow; b++) {
            float dw = m.scales[o * m.blocksPerRow + b];
            long sumi = 0, abs = 0;
            for (int j = 0; j < 32; j++) {
                // the stored weight is q · d_w exactly: recover q
                long qw = dw == 0f ? 0 : Math.round(w[32 * b + j] / dw);
                sumi += qw * qx[32 * b + j];
                abs += Math.abs(qw * qx[32 * b + j]);
            }
            s += (double) sumi * dw * dx[b];
            a += Math.abs((double) abs * dw * dx[b]);
        }
        mag[0] = a;
        return s;
    }

    static float[] activations(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double v = r.nextGaussian();
            if (r.nextInt(50) == 0) v *= 20; // a few outliers, as after a LayerNorm
            x[i] = (float) v;
        }
        return x;
    }

    /** Tolerance of a float sum of a block products against the exact one: (blocks + 5) ulps of the sum of |terms|. */
    static double tolerance(QuantizedMatrix m, double mag) {
        return (m.blocksPerRow + 5) * 0x1p-24 * mag + 1e-30;
    }

    // ---------------------------------------------------------------------------------------------- quantizing

    @Test
    void activationsQuantizeAsTheDefinitionSaysOnBothPaths() {
        Random r = new Random(3);
        List<float[]> rows = new ArrayList<>();
        for (int k = 0; k < 20; k++) rows.add(activations(r, 96));
        // exact ties at amax 127 (id = 1): to even, not away from zero
        float[] ties = new float[32];
        ties[0] = 127f;
        for (int j = 1; j < 32; j++) ties[j] = j - 16.5f;
        rows.add(ties);
        rows.add(new float[64]); // all zero: d = 0, q = 0
        float[] tiny = new float[32];
        for (int j = 0; j < 32; j++) tiny[j] = (float) (r.nextGaussian() * 1e-39); // 127 / amax overflows
        rows.add(tiny);
        for (boolean vector : new boolean[] {true, false}) {
            QuantizedMatrix.setVectorized(vector);
            for (float[] x : rows) {
                Q8Activations a = Q8Activations.of(x, 1, x.length);
                float[] d = new float[x.length / 32];
                int[] want = refQuants(x, d), got = new int[x.length];
                a.quants(0, got);
                assertArrayEquals(want, got, (vector ? "vector" : "scalar") + " q of " + Arrays.toString(x));
                assertArrayEquals(d, a.scales(0), "d");
            }
        }
        Q8Activations t = Q8Activations.of(ties, 1, 32);
        int[] q = new int[32];
        t.quants(0, q);
        assertEquals(-16, q[1], "-16.5 rounds to even");
        assertEquals(-2, q[15], "-1.5 rounds to even");
        assertEquals(0, q[16], "-0.5 rounds to even");
        assertEquals(2, q[18], "1.5 rounds to even");
    }

    @Test
    void rowsQuantizeIndependently() {
        Random r = new Random(4);
        float[] x = activations(r, 5 * 64);
        Q8Activations all = Q8Activations.of(x, 5, 64);
        Q8Activations parts = new Q8Activations();
        parts.resize(5, 64);
        parts.quantizeRows(x, 3, 5);
        parts.quantizeRows(x, 0, 3);
        for (int row = 0; row < 5; row++) {
            assertArrayEquals(all.ggmlBlocks(row), parts.ggmlBlocks(row));
            Q8Activations one = Q8Activations.of(Arrays.copyOfRange(x, row * 64, row * 64 + 64), 1, 64);
            assertArrayEquals(one.ggmlBlocks(0), all.ggmlBlocks(row));
        }
        assertThrows(IllegalArgumentException.class, () -> Q8Activations.of(new float[48], 1, 48));
    }

    // ---------------------------------------------------------------------------------------------- products

    @Test
    void productsEqualTheDefinitionOnBothPaths() {
        Random r = new Random(5);
        int[][] shapes = {{13, 96}, {4, 32}, {7, 384}, {9, 1536}};
        for (QuantType type : new QuantType[] {QuantType.Q8_0, QuantType.Q4_0}) {
            for (int[] shape : shapes) {
                int rows = shape[0], cols = shape[1];
                QuantizedMatrix m = QuantizedMatrix.quantize(type, QuantFormatsTest.weights(r, rows, cols), rows, cols);
                for (int R : new int[] {1, 2, 5}) {
                    float[] x = activations(r, R * cols);
                    Q8Activations a = Q8Activations.of(x, R, cols);
                    for (boolean vector : new boolean[] {true, false}) {
                        QuantizedMatrix.setVectorized(vector);
                        float[] y = new float[R * rows];
                        m.matmul(a, y, 0, rows);
                        for (int rr = 0; rr < R; rr++) {
                            float[] dx = new float[cols / 32];
                            int[] qx = refQuants(Arrays.copyOfRange(x, rr * cols, (rr + 1) * cols), dx);
                            for (int o = 0; o < rows; o++) {
                                double[] mag = new double[1];
                                double want = refDot(m, o, qx, dx, mag);
                                assertEquals(want, y[rr * rows + o], tolerance(m, mag[0]),
                                        (vector ? "vector " : "scalar ") + type + " [" + rows + ", " + cols + "] R " + R + " y[" + rr + ", " + o + "]");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The same product seen the other way: the float product of the weights and the dequantized activations
     * (q_x · d_x), which differs from the integer one by float rounding only.
     */
    @Test
    void productsEqualTheFloatProductOfTheDequantizedActivations() {
        Random r = new Random(6);
        for (QuantType type : new QuantType[] {QuantType.Q8_0, QuantType.Q4_0}) {
            int rows = 24, cols = 384;
            QuantizedMatrix m = QuantizedMatrix.quantize(type, QuantFormatsTest.weights(r, rows, cols), rows, cols);
            float[] x = activations(r, 3 * cols), xd = new float[3 * cols];
            Q8Activations a = Q8Activations.of(x, 3, cols);
            for (int rr = 0; rr < 3; rr++) a.dequantizeRow(rr, xd, rr * cols);
            float[] y = new float[3 * rows], f = new float[3 * rows], plain = new float[3 * rows];
            m.matmul(a, y, 0, rows);
            m.matmul(xd, 3, f, 0, rows);
            m.matmul(x, 3, plain, 0, rows);
            double differs = 0;
            float[] w = m.dequantize();
            for (int i = 0; i < y.length; i++) {
                double mag = 0;
                for (int c = 0; c < cols; c++) mag += Math.abs((double) w[(i % rows) * cols + c] * xd[(i / rows) * cols + c]);
                assertEquals(f[i], y[i], 2e-6 * mag, type + " y[" + i + "]");
                differs = Math.max(differs, Math.abs(plain[i] - y[i]) / mag);
            }
            // and the rounding of the activations is there: the float product of the float activations is further away
            assertTrue(differs > 1e-4, type + ": the activations were not rounded (max relative difference " + differs + ")");
        }
    }

    @Test
    void rowRangesAndRDoNotChangeABit() {
        Random r = new Random(7);
        for (boolean vector : new boolean[] {true, false}) {
            QuantizedMatrix.setVectorized(vector);
            for (QuantType type : new QuantType[] {QuantType.Q8_0, QuantType.Q4_0}) {
                int rows = 11, cols = 160;
                QuantizedMatrix m = QuantizedMatrix.quantize(type, QuantFormatsTest.weights(r, rows, cols), rows, cols);
                float[] x = activations(r, 6 * cols);
                Q8Activations all = Q8Activations.of(x, 6, cols);
                float[] y = new float[6 * rows];
                m.matmul(all, y, 0, rows);
                for (int rr = 0; rr < 6; rr++) {
                    Q8Activations one = Q8Activations.of(Arrays.copyOfRange(x, rr * cols, (rr + 1) * cols), 1, cols);
                    for (int[] range : new int[][] {{0, rows}, {1, 10}, {5, 6}, {3, 3}, {7, 11}}) {
                        float[] z = new float[rows + 2];
                        Arrays.fill(z, Float.NaN);
                        m.matmul(one, z, range[0], range[1]);
                        for (int o = 0; o < rows + 2; o++) {
                            String what = (vector ? "vector " : "scalar ") + type + " row " + rr + " range " + Arrays.toString(range) + " y[" + o + "]";
                            if (o < range[0] || o >= range[1]) assertTrue(Float.isNaN(z[o]), what + " was written");
                            else assertEquals(Float.floatToRawIntBits(y[rr * rows + o]), Float.floatToRawIntBits(z[o]), what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void onlyQ8_0AndQ4_0TakeQuantizedActivations() {
        Random r = new Random(8);
        Q8Activations a = Q8Activations.of(activations(r, 64), 1, 64);
        for (QuantType type : QuantType.values()) {
            QuantizedMatrix m = QuantizedMatrix.quantize(type, QuantFormatsTest.weights(r, 4, 64), 4, 64);
            boolean takes = type == QuantType.Q8_0 || type == QuantType.Q4_0;
            assertEquals(takes, m.takesQ8Activations(), type.toString());
            if (!takes) assertThrows(IllegalStateException.class, () -> m.matmul(a, new float[4], 0, 4), type.toString());
        }
        QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.Q8_0, QuantFormatsTest.weights(r, 4, 96), 4, 96);
        assertThrows(IllegalArgumentException.class, () -> m.matmul(a, new float[4], 0, 4), "rows of 64 against 96 columns");
    }

    // ---------------------------------------------------------------------------------------------- llama.cpp's own

    record Case(String name, int rows, int cols, Map<String, String> lines) {
        float[] floats(String key) {
            String[] parts = lines.get(key).trim().split(" ");
            float[] f = new float[parts.length];
            for (int i = 0; i < f.length; i++) f[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(parts[i], 16));
            return f;
        }

        byte[] bytes(String key) {
            return HexFormat.of().parseHex(lines.get(key).trim());
        }
    }

    static List<Case> fixture() throws IOException {
        List<Case> cases = new ArrayList<>();
        try (InputStream in = QuantQ8ActivationsTest.class.getResourceAsStream("/quant/ggml_q8_activations_fixture.txt")) {
            assertNotNull(in, "quant/ggml_q8_activations_fixture.txt is missing from the test resources");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            Case cur = null;
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) continue;
                int sp = line.indexOf(' ');
                String key = line.substring(0, sp), rest = line.substring(sp + 1);
                if (key.equals("case")) {
                    String[] p = rest.split(" ");
                    cur = new Case(p[0], Integer.parseInt(p[1]), Integer.parseInt(p[2]), new HashMap<>());
                    cases.add(cur);
                } else {
                    cur.lines().put(key, rest);
                }
            }
        }
        assertTrue(cases.size() >= 9, "the fixture has its cases");
        return cases;
    }

    @Test
    void activationsQuantizeAsLlamaCppDoesByteForByte() throws IOException {
        for (boolean vector : new boolean[] {true, false}) {
            QuantizedMatrix.setVectorized(vector);
            for (Case c : fixture()) {
                Q8Activations a = Q8Activations.of(c.floats("x"), c.rows(), c.cols());
                byte[] want = c.bytes("xq");
                int rb = c.cols() / 32 * 34;
                for (int row = 0; row < c.rows(); row++) {
                    assertArrayEquals(Arrays.copyOfRange(want, row * rb, (row + 1) * rb), a.ggmlBlocks(row),
                            (vector ? "vector " : "scalar ") + c.name() + " row " + row);
                }
            }
        }
    }

    /** llama.cpp's dot products (its AVX2 lanes) and gpt4j's differ by float rounding at most. */
    @Test
    void productsEqualLlamaCppsDotProducts() throws IOException {
        int exact = 0, total = 0;
        for (boolean vector : new boolean[] {true, false}) {
            QuantizedMatrix.setVectorized(vector);
            for (Case c : fixture()) {
                Q8Activations a = Q8Activations.of(c.floats("x"), c.rows(), c.cols());
                for (QuantType type : new QuantType[] {QuantType.Q8_0, QuantType.Q4_0}) {
                    QuantizedMatrix m = QuantizedMatrix.readGgml(type, 3, c.cols(), ByteBuffer.wrap(c.bytes("w_" + type.id())));
                    float[] want = c.floats("dot_" + type.id()), y = new float[c.rows() * 3];
                    m.matmul(a, y, 0, 3);
                    for (int o = 0; o < 3; o++) {
                        for (int row = 0; row < c.rows(); row++) {
                            float[] dx = a.scales(row);
                            int[] qx = new int[c.cols()];
                            a.quants(row, qx);
                            double[] mag = new double[1];
                            refDot(m, o, qx, dx, mag);
                            float got = y[row * 3 + o], theirs = want[o * c.rows() + row];
                            assertEquals(theirs, got, 2 * tolerance(m, mag[0]), (vector ? "vector " : "scalar ") + c.name() + " " + type + " w" + o + " x" + row);
                            total++;
                            if (Float.floatToRawIntBits(theirs) == Float.floatToRawIntBits(got)) exact++;
                        }
                    }
                }
            }
        }
        System.out.println("QuantQ8ActivationsTest: " + exact + " of " + total + " dot products equal llama.cpp's bit for bit (the rest by float rounding)");
    }
}
