package dev.gpt4j.core.quant;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * NF4 against its published definitions (bitsandbytes cannot be installed here, so there is no fixture from its
 * kernels): the code values are the normal quantiles of QLoRA's construction, each value goes to the nearest code
 * of its block's absmax, the nibbles are packed as bitsandbytes packs them, and double quantization stores the
 * absmax values in bitsandbytes' dynamic 8-bit map in blocks of 256 after subtracting their mean.
 */
class QuantNf4Test {
    /** Acklam's rational approximation of the standard normal quantile, central region (relative error 1.2e-9). */
    static double normalQuantile(double p) {
        double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
        double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
        assertTrue(p > 0.02425 && p < 0.97575, "central region only");
        double q = p - 0.5, r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }

    @Test
    void codeValuesAreTheNormalQuantilesOfQLoRA() {
        // create_normal_map(offset=0.9677083, use_extra_value=True): 8 positive quantiles from linspace(offset, 0.5, 9),
        // 7 negative ones from linspace(offset, 0.5, 8), and 0; normalized by the largest
        double offset = 0.9677083;
        double[] v = new double[16];
        int n = 0;
        for (int i = 0; i < 8; i++) v[n++] = normalQuantile(offset + (0.5 - offset) * i / 8);
        for (int i = 0; i < 7; i++) v[n++] = -normalQuantile(offset + (0.5 - offset) * i / 7);
        v[n] = 0;
        Arrays.sort(v);
        double max = v[15];
        float[] code = Nf4.codeValues();
        assertEquals(16, code.length);
        for (int i = 0; i < 16; i++) assertEquals(v[i] / max, code[i], 1e-6, "NF4 code " + i);
        assertEquals(-1f, code[0]);
        assertEquals(0f, code[7]);
        assertEquals(1f, code[15]);
    }

    static float halfWidestGap() {
        float g = 0;
        for (int i = 0; i + 1 < 16; i++) g = Math.max(g, (Nf4.CODE[i + 1] - Nf4.CODE[i]) / 2);
        return g;
    }

    @Test
    void eachValueGoesToTheNearestCodeOfItsBlocksAbsmax() {
        Random r = new Random(7);
        int rows = 6, cols = 256;
        float[] w = QuantFormatsTest.weights(r, rows, cols);
        QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.NF4, w, rows, cols);
        Nf4Parts p = m.nf4Parts();
        float[] back = m.dequantize();
        float gap = halfWidestGap();
        assertEquals(0.1519, gap, 1e-4); // between -1 and -0.696
        for (int b = 0; b < rows * cols / 64; b++) {
            float absmax = 0;
            for (int j = 0; j < 64; j++) absmax = Math.max(absmax, Math.abs(w[b * 64 + j]));
            assertEquals(absmax, p.absmax()[b], "the stored absmax of block " + b);
            for (int j = 0; j < 64; j++) {
                int i = b * 64 + j;
                int q = (p.packed()[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0F;
                assertEquals(Nf4.CODE[q] * absmax, back[i], "value " + i + " is code · absmax");
                double scaled = (double) w[i] / absmax;
                double best = Double.MAX_VALUE;
                for (float c : Nf4.CODE) best = Math.min(best, Math.abs(scaled - c));
                assertTrue(Math.abs(scaled - Nf4.CODE[q]) <= best + 1e-6, "value " + i + ": code " + q + " is not the nearest of " + scaled);
                assertTrue(Math.abs(w[i] - back[i]) <= gap * absmax * (1 + 1e-6), "value " + i + ": error beyond half the widest gap");
            }
        }
    }

    @Test
    void codeValuesTimesTheAbsmaxComeBackExactly() {
        Random r = new Random(8);
        for (float a : new float[] {1f, 0.37f, 1e-3f, 123.4f, 3e-30f}) {
            float[] w = new float[128];
            for (int i = 0; i < w.length; i++) w[i] = Nf4.CODE[r.nextInt(16)] * a;
            w[5] = a; // the absmax of both blocks is a
            w[64 + 9] = -a;
            QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.NF4, w, 2, 64);
            QuantGgmlFixtureTest.assertBitsEqual(w, m.dequantize(), "codes × " + a);
        }
    }

    @Test
    void nibblesArePackedAsBitsandbytesPacksThem() {
        float[] w = new float[64];
        w[0] = -2f; // code 0
        w[1] = 2f; // code 15: absmax 2
        w[2] = 0f; // code 7
        w[3] = 2f * Nf4.CODE[12];
        QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.NF4, w, 1, 64);
        byte[] packed = m.nf4Parts().packed();
        assertEquals(32, packed.length);
        assertEquals(0x0F, packed[0] & 0xFF, "element 0 in the high nibble, element 1 in the low one");
        assertEquals(0x7C, packed[1] & 0xFF);
        assertEquals(0x77, packed[2] & 0xFF);
    }

    @Test
    void aValueOnAMidpointGoesToTheLowerCode() {
        for (int i = 0; i < 15; i++) {
            float mid = Nf4.CODE_BOUNDS[i];
            float[] w = new float[64];
            w[0] = 1f; // absmax 1: the scaled values are the values
            w[1] = mid;
            w[2] = Math.nextUp(mid);
            w[3] = Math.nextDown(mid);
            byte[] p = QuantizedMatrix.quantize(QuantType.NF4, w, 1, 64).nf4Parts().packed();
            assertEquals(i, p[0] & 0x0F, "on midpoint " + i);
            assertEquals(i + 1, (p[1] >> 4) & 0x0F, "above midpoint " + i);
            assertEquals(i, p[1] & 0x0F, "below midpoint " + i);
        }
    }

    @Test
    void theDynamicMapIsBitsandbytes() {
        float[] map = Nf4.dynamicMapValues();
        assertEquals(256, map.length);
        for (int i = 0; i + 1 < 256; i++) assertTrue(map[i] < map[i + 1], "ascending and distinct at " + i);
        assertEquals(127, Arrays.stream(toDouble(map)).filter(v -> v < 0).count());
        assertEquals(0f, map[127]);
        assertEquals(1f, map[255]);
        // the definition in double: for i = 0..6, the midpoints of linspace(0.1, 1, 2^i + 1) times 10^(i - 6), both signs
        double[] expected = new double[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            int k = 1 << i;
            for (int j = 0; j < k; j++) {
                double lo = 0.1 + 0.9 * j / k, hi = 0.1 + 0.9 * (j + 1) / k;
                expected[n++] = Math.pow(10, i - 6) * (lo + hi) / 2;
                expected[n++] = -Math.pow(10, i - 6) * (lo + hi) / 2;
            }
        }
        expected[n++] = 0;
        expected[n] = 1;
        Arrays.sort(expected);
        for (int i = 0; i < 256; i++) assertEquals(expected[i], map[i], Math.abs(expected[i]) * 3e-7, "dynamic map value " + i);
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    @Test
    void doubleQuantizationStoresTheAbsmaxInTheDynamicMap() {
        Random r = new Random(9);
        int rows = 5, cols = 64 * 100; // 500 blocks: a full nested block of 256 and a partial one of 244
        float[] w = QuantFormatsTest.weights(r, rows, cols);
        QuantizedMatrix plain = QuantizedMatrix.quantize(QuantType.NF4, w, rows, cols);
        QuantizedMatrix dq = QuantizedMatrix.quantize(QuantType.NF4, w, rows, cols, true);
        assertTrue(dq.doubleQuant());
        Nf4Parts p = plain.nf4Parts(), q = dq.nf4Parts();
        assertArrayEquals(p.packed(), q.packed(), "the 4-bit values are quantized with the exact absmax either way");
        assertNull(q.absmax());
        assertEquals(500, q.absmaxCodes().length);
        assertEquals(2, q.nestedAbsmax().length);
        assertArrayEquals(Nf4.dynamicMapValues(), q.nestedMap());
        double mean = 0;
        for (float a : p.absmax()) mean += a;
        mean /= p.absmax().length;
        assertEquals(mean, q.nestedOffset(), mean * 1e-6, "the offset is the mean absmax");

        float[] map = q.nestedMap();
        float halfGap = map[0] + 1; // -1 is not in the map: all of [-1, map[0]] goes to map[0]
        for (int i = 0; i + 1 < 256; i++) halfGap = Math.max(halfGap, (map[i + 1] - map[i]) / 2);
        float[] back = dq.dequantize();
        for (int b = 0; b < 500; b++) {
            float exact = p.absmax()[b];
            float nested = q.nestedAbsmax()[b / 256];
            float decoded = map[q.absmaxCodes()[b] & 0xFF] * nested + q.nestedOffset();
            // the nested scale is the largest |absmax - offset| of its 256 blocks
            double dev = 0;
            for (int k = b / 256 * 256; k < Math.min(500, b / 256 * 256 + 256); k++) dev = Math.max(dev, Math.abs(p.absmax()[k] - q.nestedOffset()));
            assertEquals(dev, nested, dev * 1e-6, "nested scale of block " + b / 256);
            assertTrue(Math.abs(decoded - exact) <= halfGap * nested * 1.0001 + 1e-7, "absmax " + b + ": " + decoded + " for " + exact);
            for (int j = 0; j < 64; j++) {
                int i = b * 64 + j;
                int code = (q.packed()[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0F;
                assertEquals(Nf4.CODE[code] * decoded, back[i], "value " + i + " is code · decoded absmax");
            }
        }
        // equal absmax everywhere: every deviation is 0 and each absmax decodes to the offset, exactly
        float[] flat = new float[2 * 64 * 3];
        for (int i = 0; i < flat.length; i++) flat[i] = i % 64 == 0 ? 0.5f : 0.1f;
        QuantizedMatrix f = QuantizedMatrix.quantize(QuantType.NF4, flat, 2, 64 * 3, true);
        assertEquals(0.5f, f.nf4Parts().nestedOffset());
        QuantGgmlFixtureTest.assertBitsEqual(QuantizedMatrix.quantize(QuantType.NF4, flat, 2, 64 * 3).dequantize(), f.dequantize(), "flat");
    }

    @Test
    void partsRoundTripAndAreCopies() {
        Random r = new Random(10);
        int rows = 3, cols = 192;
        float[] w = QuantFormatsTest.weights(r, rows, cols);
        for (boolean dq : new boolean[] {false, true}) {
            QuantizedMatrix m = QuantizedMatrix.quantize(QuantType.NF4, w, rows, cols, dq);
            Nf4Parts parts = m.nf4Parts();
            QuantizedMatrix back = QuantizedMatrix.fromNf4Parts(rows, cols, parts);
            assertEquals(dq, back.doubleQuant());
            QuantGgmlFixtureTest.assertBitsEqual(m.dequantize(), back.dequantize(), "dq " + dq);
            float[] before = back.dequantize();
            Arrays.fill(parts.packed(), (byte) 0); // the matrix keeps its own copy
            QuantGgmlFixtureTest.assertBitsEqual(before, back.dequantize(), "after changing the parts");
        }
    }

    @Test
    void badPartsGetClearErrors() {
        Nf4Parts good = QuantizedMatrix.quantize(QuantType.NF4, new float[128], 1, 128).nf4Parts();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.fromNf4Parts(1, 192, good));
        assertTrue(e.getMessage().contains("packed") && e.getMessage().contains("96"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.fromNf4Parts(1, 128, new Nf4Parts(good.packed(), new float[3], null, null, 0, null)));
        assertTrue(e.getMessage().contains("absmax has 3 values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.fromNf4Parts(1, 128, new Nf4Parts(good.packed(), null, new byte[2], new float[1], 0, new float[255])));
        assertTrue(e.getMessage().contains("nested quant map"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.fromNf4Parts(1, 128, new Nf4Parts(good.packed(), new float[] {1, Float.NaN}, null, null, 0, null)));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatrix.fromNf4Parts(1, 128, new Nf4Parts(good.packed(), null, new byte[2], null, 0, new float[256])));
        assertTrue(e.getMessage().contains("nested absmax is missing"), e.getMessage());
    }
}
