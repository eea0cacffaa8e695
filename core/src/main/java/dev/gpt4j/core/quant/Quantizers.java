package dev.gpt4j.core.quant;

import dev.gpt4j.core.Float16;

/**
 * The reference quantizers, one block at a time, written from the published definitions: ggml's
 * {@code quantize_row_q8_0_ref} and {@code quantize_row_q4_0_ref} (ggml-quants.c) and bitsandbytes'
 * {@code quantize_4bit(quant_type="nf4", blocksize=64, compress_statistics=...)} (functional.py, with the reference
 * kernels of backends/default/ops.py). Every float operation is the one those make, in the same order and in
 * float32, so the Q8_0 and Q4_0 bytes are ggml's (the llama.cpp fixture test checks it): Java neither fuses nor
 * widens float arithmetic.
 */
final class Quantizers {
    private Quantizers() {}

    /**
     * Q8_0 block of 32 from x[off..]: d = amax / 127, q = roundf(x · (1/d)) (0 for an all-zero block), into
     * q[qoff, qoff + 32). Returns d rounded to fp16 (to nearest even), as stored.
     */
    static short q8_0(float[] x, int off, byte[] q, int qoff) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[off + j]));
        float d = amax / 127;
        float id = d != 0f ? 1f / d : 0f;
        for (int j = 0; j < 32; j++) q[qoff + j] = (byte) roundf(x[off + j] * id);
        return Float16.fromFloat(d);
    }

    /**
     * Q4_0 block of 32 from x[off..]: max = the value of largest magnitude (the first such, with its sign),
     * d = max / -8, q = min(15, trunc(x · (1/d) + 8.5)), element j in the low nibble of byte j and j + 16 in its
     * high nibble, into q[qoff, qoff + 16). Values are (q - 8) · d, so -8d = max is exact and the opposite extreme
     * clamps to 7d. Returns d rounded to fp16.
     */
    static short q4_0(float[] x, int off, byte[] q, int qoff) {
        float amax = 0f, max = 0f;
        for (int j = 0; j < 32; j++) {
            float v = x[off + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0f ? 1f / d : 0f;
        for (int j = 0; j < 16; j++) {
            // C's float-to-integer conversion truncates toward zero; the sums are in [0.5, 16.5]
            int lo = Math.min(15, (int) (x[off + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[off + 16 + j] * id + 8.5f));
            q[qoff + j] = (byte) (lo | hi << 4);
        }
        return Float16.fromFloat(d);
    }

    /** C's roundf: to nearest, halfway cases away from zero (Math.round rounds them up, which differs below 0). */
    static float roundf(float v) {
        float a = Math.abs(v);
        if (!(a < 0x1p23f)) return v; // already an integer (or NaN)
        float t = (float) Math.floor(a);
        if (a - t >= 0.5f) t += 1f; // a - t is exact below 2^23
        return Math.copySign(t, v);
    }

    /**
     * NF4 block of 64 from x[off..]: absmax = max |x|; each x · (1 / max(absmax, 1e-38)), clamped to [-1, 1], goes to
     * the nearest {@link Nf4#CODE} (ties to the lower); element 2k in the high nibble of byte k and 2k + 1 in its
     * low nibble, into q[qoff, qoff + 32). Returns the absmax.
     */
    static float nf4(float[] x, int off, byte[] q, int qoff) {
        float absmax = 0f;
        for (int j = 0; j < 64; j++) absmax = Math.max(absmax, Math.abs(x[off + j]));
        float inv = 1f / Math.max(absmax, 1e-38f);
        for (int k = 0; k < 32; k++) {
            int hi = Nf4.bucket(Nf4.CODE_BOUNDS, clamp1(x[off + 2 * k] * inv));
            int lo = Nf4.bucket(Nf4.CODE_BOUNDS, clamp1(x[off + 2 * k + 1] * inv));
            q[qoff + k] = (byte) (hi << 4 | lo);
        }
        return absmax;
    }

    private static float clamp1(float v) {
        return Math.min(1f, Math.max(-1f, v));
    }

    /** The double-quantized absmax: a code per block, a scale per 256 blocks, and the offset subtracted first. */
    record Nested(byte[] codes, float[] scales, float offset) {}

    /**
     * bitsandbytes' double quantization of the absmax values: offset = their mean; (absmax - offset) quantized in
     * blocks of 256 with {@code map} (the dynamic map) as {@code quantize_blockwise} does: a full block scaled by the
     * float32 reciprocal of its absmax, the last, partial, block divided by its absmax (clamped at 1e-38, and that
     * clamped value is the one stored), clamped to [-1, 1], nearest map value with ties to the lower.
     *
     * <p>The mean is taken in double and rounded to float; torch's float32 mean sums in another order, so the
     * offset may differ from bitsandbytes' in its last bit (it is stored, so decoding is unaffected).
     */
    static Nested doubleQuant(float[] absmax, float[] map) {
        int n = absmax.length;
        double sum = 0;
        for (float a : absmax) sum += a;
        float offset = n == 0 ? 0f : (float) (sum / n);
        float[] bounds = Nf4.midpoints(map);
        byte[] codes = new byte[n];
        int nested = (n + Nf4.NESTED_BLOCK - 1) / Nf4.NESTED_BLOCK;
        float[] scales = new float[nested];
        float[] v = new float[Nf4.NESTED_BLOCK];
        for (int k = 0; k < nested; k++) {
            int from = k * Nf4.NESTED_BLOCK, len = Math.min(Nf4.NESTED_BLOCK, n - from);
            float amax = 0f;
            for (int j = 0; j < len; j++) {
                v[j] = absmax[from + j] - offset;
                amax = Math.max(amax, Math.abs(v[j]));
            }
            boolean full = len == Nf4.NESTED_BLOCK;
            float am = Math.max(amax, 1e-38f), inv = 1f / am;
            scales[k] = full ? amax : am;
            for (int j = 0; j < len; j++) {
                float s = full ? v[j] * inv : v[j] / am;
                codes[from + j] = (byte) Nf4.bucket(bounds, clamp1(s));
            }
        }
        return new Nested(codes, scales, offset);
    }
}
