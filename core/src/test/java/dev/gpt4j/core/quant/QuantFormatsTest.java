package dev.gpt4j.core.quant;

import dev.gpt4j.core.Float16;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Q8_0, Q4_0 and F16 against their reference formulas, element by element: each stored value is the rounding the
 * definition asks for (so the round-trip error is at most half a step), and the file layout round-trips.
 */
class QuantFormatsTest {
    /** Rows of mixed scales, a few exact zeros and negative zeros, and an occasional outlier. */
    static float[] weights(Random r, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            float scale = (float) Math.pow(10, -3 + 3 * r.nextDouble());
            w[i] = (float) (r.nextGaussian() * scale);
            if (r.nextInt(50) == 0) w[i] = r.nextBoolean() ? 0f : -0f;
            if (r.nextInt(200) == 0) w[i] *= 40;
        }
        return w;
    }

    @Test
    void q8_0MatchesItsDefinition() {
        Random r = new Random(1);
        int rows = 9, cols = 256;
        float[] w = weights(r, rows, cols);
        QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.Q8_0, w, rows, cols);
        float[] back = m.dequantize();
        for (int b = 0; b < rows * cols / 32; b++) {
            double amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(w[b * 32 + j]));
            double d = amax / 127; // the exact scale of the definition
            float d16 = Float16.toFloat(Float16.fromFloat((float) d)); // what is stored
            for (int j = 0; j < 32; j++) {
                int i = b * 32 + j;
                double q = d16 == 0 ? 0 : back[i] / d16;
                assertEquals(Math.rint(q), q, 0, "stored value " + i + " is an integer multiple of d");
                assertTrue(Math.abs(q) <= 127, "|q| <= 127 at " + i);
                // q is x / d rounded: within half a step of the exact scale (plus the float rounding of x · (1/d),
                // a few 1e-6 of a step at |q| ~ 127), then the fp16 rounding of d on top
                double err = Math.abs(w[i] - back[i]);
                double bound = d * (0.5 + 2e-5) + Math.abs(q) * Math.abs(d16 - d);
                assertTrue(err <= bound, "Q8_0 value " + i + ": error " + err + " > " + bound + " (d = " + d + ")");
            }
        }
    }

    @Test
    void q4_0MatchesItsDefinition() {
        Random r = new Random(2);
        int rows = 9, cols = 256;
        float[] w = weights(r, rows, cols);
        QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.Q4_0, w, rows, cols);
        float[] back = m.dequantize();
        for (int b = 0; b < rows * cols / 32; b++) {
            float max = 0;
            for (int j = 0; j < 32; j++) if (Math.abs(w[b * 32 + j]) > Math.abs(max)) max = w[b * 32 + j];
            double d = max / -8.0;
            float d16 = Float16.toFloat(Float16.fromFloat((float) d));
            for (int j = 0; j < 32; j++) {
                int i = b * 32 + j;
                double q = d16 == 0 ? 0 : back[i] / d16; // q - 8 of the definition
                assertEquals(Math.rint(q), q, 0, "stored value " + i + " is an integer multiple of d");
                assertTrue(q >= -8 && q <= 7, "q - 8 in [-8, 7] at " + i + ": " + q);
                double err = Math.abs(w[i] - back[i]);
                // half a step, except the far end of the range, which clamps at 7 (x / d up to 8: one step)
                double steps = q == 7 ? 1 : 0.5;
                double bound = Math.abs(d) * (steps + 2e-6) + Math.abs(q) * Math.abs(d16 - d);
                assertTrue(err <= bound, "Q4_0 value " + i + ": error " + err + " > " + bound + " (d = " + d + ")");
            }
            if (max != 0) assertEquals(max, back[b * 32 + indexOfFirstMax(w, b * 32)], Math.abs(max) * 1e-3, "the max is stored as -8 d");
        }
    }

    private static int indexOfFirstMax(float[] w, int off) {
        int best = 0;
        for (int j = 1; j < 32; j++) if (Math.abs(w[off + j]) > Math.abs(w[off + best])) best = j;
        return best;
    }

    @Test
    void q4_0PacksElementJLowAndJPlus16High() {
        float[] w = new float[32];
        w[0] = -8f; // max: d = 1, so the stored q is x + 8
        w[1] = 3f;
        w[16] = -2f;
        w[17] = 7f;
        QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.Q4_0, w, 1, 32);
        ByteBuffer out = ByteBuffer.allocate(18);
        m.writeGgml(out);
        byte[] b = out.array();
        assertEquals(0x00, b[0] & 0xFF); // d = 1.0 = 0x3C00, little-endian
        assertEquals(0x3C, b[1] & 0xFF);
        assertEquals(0 | 6 << 4, b[2] & 0xFF, "byte 0: element 0 (q 0) low, element 16 (q 6) high");
        assertEquals(11 | 15 << 4, b[3] & 0xFF, "byte 1: element 1 (q 11) low, element 17 (q 15) high");
        assertEquals(8 | 8 << 4, b[4] & 0xFF);
    }

    @Test
    void roundfRoundsHalvesAwayFromZero() {
        assertEquals(3f, Quantizers.roundf(2.5f));
        assertEquals(-3f, Quantizers.roundf(-2.5f));
        assertEquals(1f, Quantizers.roundf(0.5f));
        assertEquals(-1f, Quantizers.roundf(-0.5f));
        assertEquals(0f, Quantizers.roundf(0.49999997f));
        assertEquals(-0f, Quantizers.roundf(-0.49999997f));
        assertEquals(127f, Quantizers.roundf(126.5f));
        assertEquals(-2f, Quantizers.roundf(-1.6f));
    }

    @Test
    void f16IsExactlyTheRoundedHalf() {
        Random r = new Random(3);
        int rows = 3, cols = 37; // F16 takes any row length
        float[] w = weights(r, rows, cols);
        w[5] = 65504f;
        w[6] = -65519f; // rounds to -65504
        w[7] = 1e-7f; // subnormal half
        QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.F16, w, rows, cols);
        float[] back = m.dequantize();
        for (int i = 0; i < w.length; i++) {
            assertEquals(Float.floatToRawIntBits(Float16.toFloat(Float16.fromFloat(w[i]))), Float.floatToRawIntBits(back[i]), "value " + i);
        }
        assertEquals(2L * rows * cols, m.bytes());
    }

    @Test
    void theFastHalfConversionIsExactForEveryFiniteHalf() {
        for (int h = 0; h < 0x10000; h++) {
            if (((h >> 10) & 0x1F) == 0x1F) continue;
            assertEquals(Float.floatToRawIntBits(Float16.toFloat((short) h)), Float.floatToRawIntBits(ScalarQuantKernels.halfToFloat((short) h)), "half 0x" + Integer.toHexString(h));
        }
    }

    @Test
    void ggmlLayoutRoundTrips() {
        Random r = new Random(4);
        for (QuantType t : new QuantType[] {QuantType.F16, QuantType.Q8_0, QuantType.Q4_0}) {
            int rows = 5, cols = 96;
            QuantizedMatrix m = QuantizedMatrix.quantize(t, weights(r, rows, cols), rows, cols);
            assertEquals((long) rows * cols / t.blockSize() * t.bytesPerBlock(), m.ggmlBytes());
            ByteBuffer buf = ByteBuffer.allocate((int) m.ggmlBytes());
            m.writeGgml(buf);
            assertFalse(buf.hasRemaining());
            buf.flip();
            QuantizedMatrix back = QuantizedMatrix.readGgml(t, rows, cols, buf);
            QuantGgmlFixtureTest.assertBitsEqual(m.dequantize(), back.dequantize(), t.toString());
        }
    }

    @Test
    void memoryIsWhatTheLayoutSays() {
        int rows = 4, cols = 256, n = rows * cols;
        float[] w = weights(new Random(5), rows, cols);
        assertEquals(n + 4L * n / 32, QuantizedMatrix.quantize(QuantType.Q8_0, w, rows, cols).bytes());
        assertEquals(n / 2 + 4L * n / 32, QuantizedMatrix.quantize(QuantType.Q4_0, w, rows, cols).bytes());
        assertEquals(n / 2 + 4L * n / 64, QuantizedMatrix.quantize(QuantType.NF4, w, rows, cols).bytes());
        assertEquals(n / 2 + n / 64 + 4 + 4 + 4 * 256, QuantizedMatrix.quantize(QuantType.NF4, w, rows, cols, true).bytes());
    }

    @Test
    void typesParseAndListTheChoices() {
        assertEquals(QuantType.Q8_0, QuantType.parse("q8_0"));
        assertEquals(QuantType.Q4_0, QuantType.parse(" Q4_0 "));
        assertEquals(QuantType.NF4, QuantType.parse("NF4"));
        assertEquals(QuantType.F16, QuantType.parse("f16"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantType.parse("q5_k"));
        assertTrue(e.getMessage().contains("'q5_k'") && e.getMessage().contains("f16, q8_0, q4_0, nf4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> QuantType.parse(null));
        assertEquals(32, QuantType.Q8_0.blockSize());
        assertEquals(34, QuantType.Q8_0.bytesPerBlock());
        assertEquals(18, QuantType.Q4_0.bytesPerBlock());
        assertEquals(64, QuantType.NF4.blockSize());
    }

    @Test
    void badInputsGetClearErrors() {
        float[] w = new float[2 * 48];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.quantize(QuantType.Q8_0, w, 2, 48));
        assertTrue(e.getMessage().contains("blocks of 32") && e.getMessage().contains("48"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.quantize(QuantType.NF4, new float[64], 1, 32));
        assertTrue(e.getMessage().contains("blocks of 64"), e.getMessage());
        float[] nan = new float[64];
        nan[37] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.quantize(QuantType.Q4_0, nan, 2, 32));
        assertTrue(e.getMessage().contains("[1, 5]") && e.getMessage().contains("NaN"), e.getMessage());
        float[] big = new float[32];
        big[3] = 1e7f; // d = 1e7 / 127 > 65504
        e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.quantize(QuantType.Q8_0, big, 1, 32));
        assertTrue(e.getMessage().contains("fp16"), e.getMessage());
        big[3] = 6e5f; // Q4_0: d = 75000, where ggml would store an infinite scale
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.quantize(QuantType.Q4_0, big, 1, 32));
        big[3] = 70000f;
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.quantize(QuantType.F16, big, 1, 32));
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.quantize(QuantType.Q8_0, new float[31], 1, 32));
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.quantize(QuantType.Q8_0, new float[32], 1, 32, true));

        // an infinite scale in a file
        ByteBuffer bad = ByteBuffer.allocate(34);
        bad.put(0, (byte) 0x00).put(1, (byte) 0x7C);
        e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.readGgml(QuantType.Q8_0, 1, 32, bad));
        assertTrue(e.getMessage().contains("scale of block 0 of row 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.readGgml(QuantType.Q8_0, 1, 64, ByteBuffer.allocate(34)));
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.readGgml(QuantType.NF4, 1, 64, ByteBuffer.allocate(64)));
        QuantizedMatrix nf4 = QuantizedMatrix.quantize(QuantType.NF4, new float[64], 1, 64);
        assertThrows(IllegalStateException.class, () -> nf4.writeGgml(ByteBuffer.allocate(100)));
        QuantizedMatrix q8 = QuantizedMatrix.quantize(QuantType.Q8_0, new float[64], 1, 64);
        assertThrows(IllegalArgumentException.class, () -> q8.writeGgml(ByteBuffer.allocate(67)));
        assertThrows(IllegalStateException.class, q8::nf4Parts);
    }
}
