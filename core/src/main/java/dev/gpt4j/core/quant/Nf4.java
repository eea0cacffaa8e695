package dev.gpt4j.core.quant;

import java.util.Arrays;

/**
 * The NF4 data type of QLoRA (Dettmers et al. 2023, "QLoRA: Efficient Finetuning of Quantized LLMs", section 3) as
 * bitsandbytes defines it, and the 8-bit "dynamic" map bitsandbytes uses to double-quantize the absmax values.
 *
 * <p>Quantizing follows bitsandbytes' reference (PyTorch) kernels, {@code quantize_4bit} and
 * {@code quantize_blockwise} in its {@code backends/default/ops.py}: a block's values are multiplied by the float32
 * reciprocal of its absmax (clamped below at 1e-38), clamped to [-1, 1], and mapped to the code whose bucket holds
 * them, the buckets being split at the float32 midpoints {@code (code[i] + code[i+1]) / 2}; a value exactly on a
 * midpoint goes to the lower code ({@code torch.bucketize} with right = false). Dequantizing is
 * {@code code[q] * absmax} in float32.
 */
public final class Nf4 {
    private Nf4() {}

    /** Values per block. */
    public static final int BLOCK = 64;
    /** Absmax values per block of the double quantization ({@code quantize_4bit}'s {@code blocksize=256}). */
    public static final int NESTED_BLOCK = 256;

    /**
     * The 16 NF4 code values, ascending: the float32 values bitsandbytes lists in {@code get_4bit_type("nf4")}
     * (quantiles of N(0, 1) normalized to [-1, 1], with an exact 0 and one more positive value than negative).
     */
    static final float[] CODE = {
            -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
            -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
            0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
            0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

    /** Bucket boundaries of {@link #CODE}: float32 midpoints of neighbouring codes. */
    static final float[] CODE_BOUNDS = midpoints(CODE);

    /** bitsandbytes' signed dynamic 8-bit map ({@code create_dynamic_map()}), 256 ascending float32 values. */
    static final float[] DYNAMIC = dynamicMap();

    /** The NF4 code values (a copy). */
    public static float[] codeValues() {
        return CODE.clone();
    }

    /** The default map of the double quantization (a copy); a file carries the map it was written with. */
    public static float[] dynamicMapValues() {
        return DYNAMIC.clone();
    }

    static float[] midpoints(float[] code) {
        float[] m = new float[code.length - 1];
        for (int i = 0; i < m.length; i++) m[i] = (code[i] + code[i + 1]) / 2f;
        return m;
    }

    /** The index of the bucket {@code v} falls in: the number of bounds strictly below it (ties go down). */
    static int bucket(float[] bounds, float v) {
        int lo = 0, hi = bounds.length; // answer in [lo, hi]
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (bounds[mid] < v) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /**
     * {@code create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)}: for i = 0..6, the 2^i midpoints of
     * {@code linspace(0.1, 1, 2^i + 1)} times 10^(i-6), with both signs, plus 0 and 1, sorted (127 negative values,
     * zero, 128 positive). Float32 throughout as torch computes it; linspace by torch's scalar formula (from the
     * start below the halfway index, from the end above it). Torch's vectorized linspace may round a few entries
     * an ulp differently: files therefore carry the map they were written with.
     */
    static float[] dynamicMap() {
        float[] data = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            float[] b = linspace(0.1f, 1f, (1 << i) + 1);
            float scale = (float) Math.pow(10, i - 6);
            for (int k = 0; k + 1 < b.length; k++) {
                float mean = (b[k] + b[k + 1]) / 2f;
                data[n++] = scale * mean;
                data[n++] = -scale * mean;
            }
        }
        data[n++] = 0f;
        data[n++] = 1f;
        if (n != 256) throw new AssertionError(n);
        Arrays.sort(data);
        return data;
    }

    /** torch.linspace(start, end, steps) in float32, by the scalar CPU kernel's formula. */
    static float[] linspace(float start, float end, int steps) {
        float[] v = new float[steps];
        float step = (end - start) / (float) (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) v[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        return v;
    }
}
