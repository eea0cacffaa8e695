package dev.gpt4j.core;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Float16} bit for bit: the IEEE rules written out case by case (ties to even, overflow, subnormals both ways,
 * signed zero, NaN), then against numpy's conversions (core/src/test/python/make_fixtures.py, checked there against
 * torch's): every half to float, and 317,440 floats to half chosen at and around every half and every midpoint.
 */
class Float16Test {
    /** The value of half {@code h} from the IEEE 754 definition, in double (not the class's bit shuffling). */
    static double halfValue(int h) {
        int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
        double mag;
        if (exp == 0x1F) mag = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (exp == 0) mag = Math.scalb((double) mant, -24); // subnormal: mant * 2^-24
        else mag = Math.scalb((double) (1024 + mant), exp - 25); // (1 + mant/1024) * 2^(exp-15)
        return sign == 1 ? -mag : mag;
    }

    static String hex(int bits) {
        return String.format("0x%04X", bits & 0xFFFF);
    }

    static void half(int expected, float f) {
        short got = Float16.fromFloat(f);
        assertEquals(hex(expected), hex(got), "fromFloat(" + f + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")");
    }

    @Test
    void roundsToNearestWithTiesToEven() {
        half(0x3C00, 1f);
        half(0x3C00, 1f + 0x1p-11f); // halfway between 1 and 1 + 2^-10: the even one, 1
        half(0x3C01, Math.nextUp(1f + 0x1p-11f)); // just above halfway: up
        half(0x3C00, Math.nextDown(1f + 0x1p-11f));
        half(0x3C02, 1f + 3 * 0x1p-11f); // halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even): up to 1 + 2^-9
        half(0x3C01, Math.nextDown(1f + 3 * 0x1p-11f));
        half(0x3555, 1f / 3); // 0x3555.4...: down
        half(0x4248, 3.14159f);
        half(0xC100, -2.5f);
        half(0x4000, 2f);
        half(0x4000, 2f - 0x1p-12f); // a carry from the mantissa into the exponent: 2 - 2^-12 (a tie, odd below) rounds to 2
    }

    @Test
    void overflowGoesToInfinityAtTheRoundingBoundary() {
        half(0x7BFF, 65504f); // the largest half
        half(0x7BFF, 65519f); // below the midpoint to 65536
        half(0x7BFF, Math.nextDown(65520f));
        half(0x7C00, 65520f); // the midpoint: ties to even is 2^16, which is infinity
        half(0xFC00, -65520f);
        half(0x7C00, 65536f);
        half(0x7C00, 1e6f);
        half(0x7C00, Float.MAX_VALUE);
        half(0x7C00, Float.POSITIVE_INFINITY);
        half(0xFC00, Float.NEGATIVE_INFINITY);
    }

    @Test
    void subnormalsBothWays() {
        float smallest = 0x1p-24f; // 0x0001
        half(0x0001, smallest);
        half(0x0000, 0x1p-25f); // half the smallest: a tie, to the even 0
        half(0x0001, Math.nextUp(0x1p-25f)); // just above it: up to the smallest
        half(0x0000, 0x1p-26f);
        half(0x0000, Float.MIN_VALUE); // a float subnormal
        half(0x0002, 3 * 0x1p-25f); // 1.5 units: tie between 1 (odd) and 2 (even)
        half(0x0002, 5 * 0x1p-25f); // 2.5 units: tie between 2 (even) and 3
        half(0x0200, 0x1p-15f); // a normal float that is a subnormal half
        half(0x03FF, 1023 * 0x1p-24f); // the largest subnormal
        half(0x0400, 1023.5f * 0x1p-24f); // rounding out of the subnormals into the smallest normal 2^-14 (even)
        half(0x03FF, Math.nextDown(1023.5f * 0x1p-24f));
        half(0x0400, 0x1p-14f);
        half(0x0400, Math.nextDown(0x1p-14f)); // just below the smallest normal: up to it
        half(0x03FF, 1023.25f * 0x1p-24f); // a normal float below 2^-14: down into the subnormals
        assertEquals(0x1p-24f, Float16.toFloat((short) 0x0001));
        assertEquals(1023 * 0x1p-24f, Float16.toFloat((short) 0x03FF));
        assertEquals(-0x1p-24f, Float16.toFloat((short) 0x8001));
    }

    @Test
    void signedZeroAndNaN() {
        half(0x0000, 0f);
        half(0x8000, -0f);
        half(0x8000, -0x1p-26f); // a negative value too small for a half is -0, not +0
        half(0x8000, -Float.MIN_VALUE);
        assertEquals(Float.floatToRawIntBits(-0f), Float16.toFloatBits((short) 0x8000));
        assertEquals(0, Float16.toFloatBits((short) 0));
        for (int bits : new int[] {0x7FC00000, 0x7F800001, 0x7FBFFFFF, 0xFFC00000, 0x7FFFFFFF, 0xFF800001}) {
            float nan = Float.intBitsToFloat(bits);
            short h = Float16.fromFloat(nan);
            assertTrue((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0, "NaN 0x" + Integer.toHexString(bits) + " became " + hex(h));
            assertTrue(Float.isNaN(Float16.toFloat(h)));
        }
        assertTrue(Float.isNaN(Float16.toFloat((short) 0x7E00)));
        assertTrue(Float.isNaN(Float16.toFloat((short) 0x7C01)));
        assertEquals(Float.POSITIVE_INFINITY, Float16.toFloat((short) 0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, Float16.toFloat((short) 0xFC00));
    }

    /** Every half: the float it stands for (by the definition), and back to the same half. */
    @Test
    void everyHalfToFloatAndBack() {
        for (int h = 0; h < 65536; h++) {
            float f = Float16.toFloat((short) h);
            double v = halfValue(h);
            if (Double.isNaN(v)) {
                assertTrue(Float.isNaN(f), hex(h));
                continue;
            }
            assertEquals(v, (double) f, 0.0, hex(h));
            assertEquals(Double.doubleToRawLongBits(v) < 0, Float.floatToRawIntBits(f) < 0, "sign of " + hex(h));
            assertEquals(hex(h), hex(Float16.fromFloat(f)), "round trip of " + hex(h));
        }
    }

    @Test
    void everyHalfToFloatAsNumpy() throws IOException {
        ByteBuffer expected = fixture("/parity/float16-to-float32.u32le.gz", 65536 * 4);
        for (int h = 0; h < 65536; h++) {
            int want = expected.getInt(4 * h), got = Float16.toFloatBits((short) h);
            if (want != got) fail("toFloat(" + hex(h) + "): numpy 0x" + Integer.toHexString(want) + ", Float16 0x" + Integer.toHexString(got));
        }
    }

    /** The inputs of make_fixtures.py's float16(), in its order: at, above, and around the midpoint after every half. */
    static float[] roundingInputs() {
        float[] in = new float[2 * 0x7C00 * 5];
        int n = 0;
        for (int h = 0; h < 0x7C00; h++) {
            float f = (float) halfValue(h), g = h + 1 < 0x7C00 ? (float) halfValue(h + 1) : 65536f;
            float mid = (float) (((double) f + g) / 2);
            in[n++] = f;
            in[n++] = Math.nextUp(f);
            in[n++] = Math.nextDown(mid);
            in[n++] = mid;
            in[n++] = Math.nextUp(mid);
        }
        for (int i = 0; i < n; i++) in[n + i] = -in[i];
        return in;
    }

    @Test
    void floatToHalfAsNumpy() throws IOException {
        float[] in = roundingInputs();
        ByteBuffer expected = fixture("/parity/float16-from-float32.u16le.gz", in.length * 2);
        int wrong = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < in.length; i++) {
            int want = expected.getShort(2 * i) & 0xFFFF, got = Float16.fromFloat(in[i]) & 0xFFFF;
            if (want != got && wrong++ < 10) {
                first.append(String.format("%n  %s (0x%08x): numpy %s, Float16 %s", in[i], Float.floatToRawIntBits(in[i]), hex(want), hex(got)));
            }
        }
        assertEquals(0, wrong, wrong + " of " + in.length + " roundings differ from numpy's, e.g." + first);
    }

    static ByteBuffer fixture(String resource, int bytes) throws IOException {
        try (InputStream raw = Float16Test.class.getResourceAsStream(resource)) {
            assertNotNull(raw, resource);
            byte[] b = new byte[bytes];
            try (DataInputStream in = new DataInputStream(new GZIPInputStream(raw))) {
                in.readFully(b);
                assertEquals(-1, in.read(), resource + " is longer than " + bytes + " bytes");
            }
            return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        }
    }
}
