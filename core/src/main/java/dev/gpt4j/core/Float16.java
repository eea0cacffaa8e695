package dev.gpt4j.core;

/**
 * IEEE 754 half precision (binary16), the F16 of safetensors and GGUF files: conversions to and from float, in
 * plain Java (Java 17 has no {@code Float.float16ToFloat}).
 */
public final class Float16 {
    private Float16() {}

    /** The float an IEEE half-precision value stands for (exactly: every half is a float). */
    public static float toFloat(short half) {
        return Float.intBitsToFloat(toFloatBits(half));
    }

    /** IEEE half-precision bits to float bits. */
    static int toFloatBits(short hbits) {
        int h = hbits & 0xFFFF;
        int sign = (h & 0x8000) << 16, exp = (h >>> 10) & 0x1F, mant = h & 0x3FF;
        if (exp == 0x1F) return sign | 0x7F800000 | (mant << 13);
        if (exp == 0) {
            if (mant == 0) return sign;
            // subnormal: normalise
            int e = -1;
            do {
                mant <<= 1;
                e++;
            } while ((mant & 0x400) == 0);
            mant &= 0x3FF;
            return sign | ((127 - 15 - e) << 23) | (mant << 13);
        }
        return sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }

    /** Float to IEEE half precision, rounding to nearest even; too large for a half gives infinity, NaN stays NaN. */
    public static short fromFloat(float f) {
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF, mant = bits & 0x7FFFFF;
        if (exp == 0xFF) return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 : 0));
        int e = exp - 127 + 15;
        if (e >= 0x1F) return (short) (sign | 0x7C00);
        if (e <= 0) {
            if (e < -10) return (short) sign;
            mant |= 0x800000;
            int shift = 14 - e;
            int half = mant >> shift, rem = mant & ((1 << shift) - 1), mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) half++;
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) half++;
        return (short) (sign | half);
    }
}
