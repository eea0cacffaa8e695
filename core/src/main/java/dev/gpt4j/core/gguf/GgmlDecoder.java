package dev.gpt4j.core.gguf;

import dev.gpt4j.core.Float16;
import dev.gpt4j.core.ModelFileException;
import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.core.quant.QuantizedMatrix;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A GGUF tensor's values as floats, in the file's layout (row-major {@code [ne1][ne0]}, ne0 contiguous), for the
 * tensors gpt4j keeps in float32 (embeddings, LayerNorms, biases, and any weight it does not keep packed).
 *
 * <p>F32 is read as is. F16, Q8_0 and Q4_0 go through {@link QuantizedMatrix#readGgml} (the same blocks gpt4j writes)
 * and its exact dequantization. Q6_K is decoded here, read only: llama.cpp's quantizer stores the LM head (with a tied
 * head, {@code token_embd}) of a Q4_0 file as Q6_K when its rows are a multiple of 256 values, so a real Q4_0 GPT-2 file
 * holds one. Its layout (ggml's {@code block_q6_K}, 210 bytes per 256 values): 128 bytes {@code ql} (the low 4 bits of
 * each 6-bit quant), 64 bytes {@code qh} (the high 2 bits, four quants per byte), 16 signed 8-bit sub-block scales (one
 * per 16 values), then the fp16 super-block scale d. The block is two halves of 128 values, each using 64 bytes of ql,
 * 32 of qh and 8 scales; within a half, for l in 0..31, the four values l, l+32, l+64, l+96 are
 * <pre>
 * q(l)    = (ql[l]    &amp; 15 | (qh[l]      &amp; 3) &lt;&lt; 4) - 32    × scale[l/16]
 * q(l+32) = (ql[l+32] &amp; 15 | (qh[l] &gt;&gt; 2 &amp; 3) &lt;&lt; 4) - 32    × scale[l/16 + 2]
 * q(l+64) = (ql[l]    &gt;&gt; 4 | (qh[l] &gt;&gt; 4 &amp; 3) &lt;&lt; 4) - 32    × scale[l/16 + 4]
 * q(l+96) = (ql[l+32] &gt;&gt; 4 | (qh[l] &gt;&gt; 6 &amp; 3) &lt;&lt; 4) - 32    × scale[l/16 + 6]
 * </pre>
 * and a value is {@code (d · scale) · q} in float32, in that order (the order of ggml's {@code dequantize_row_q6_K}, so
 * the floats are the ones llama.cpp computes).
 */
public final class GgmlDecoder {
    private GgmlDecoder() {}

    /** Values per Q6_K super-block. */
    static final int QK_K = 256;

    /**
     * The values of a tensor as floats (its {@link GgufFile.TensorInfo#elements()} values, GGUF's layout).
     *
     * @throws ModelFileException naming the file and tensor if its type cannot be decoded or a scale is not finite
     */
    public static float[] floats(GgufFile f, String name) {
        GgufFile.TensorInfo t = f.requireSupported(name);
        if (t.elements() > Integer.MAX_VALUE - 64) throw new ModelFileException(f.file(), "tensor '" + name + "' has too many values for one array");
        int n = (int) t.elements(), cols = (int) t.ne(0), rows = n / Math.max(1, cols);
        ByteBuffer b = f.tensorData(name);
        try {
            return switch (t.type()) {
                case F32 -> {
                    float[] out = new float[n];
                    b.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
                    yield out;
                }
                case F16 -> QuantizedMatrix.readGgml(QuantType.F16, rows, cols, b).dequantize();
                case Q8_0 -> QuantizedMatrix.readGgml(QuantType.Q8_0, rows, cols, b).dequantize();
                case Q4_0 -> QuantizedMatrix.readGgml(QuantType.Q4_0, rows, cols, b).dequantize();
                case Q6_K -> q6_K(b, n);
                default -> throw new IllegalStateException(t.type().describe()); // requireSupported let it through
            };
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(f.file(), "tensor '" + name + "' (" + t.type() + "): " + e.getMessage());
        }
    }

    /** {@code n} values (a multiple of 256) of Q6_K blocks from {@code in}'s position. */
    public static float[] q6_K(ByteBuffer in, int n) {
        if (n % QK_K != 0) throw new IllegalArgumentException("Q6_K holds blocks of " + QK_K + " values; " + n + " is not a multiple");
        int blocks = n / QK_K, bytes = GgmlType.Q6_K.bytesPerBlock();
        if (in.remaining() < (long) blocks * bytes) {
            throw new IllegalArgumentException(n + " Q6_K values need " + (long) blocks * bytes + " bytes, " + in.remaining() + " are left");
        }
        ByteBuffer b = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = b.position();
        float[] out = new float[n];
        for (int k = 0; k < blocks; k++) {
            int blk = base + k * bytes, ql = blk, qh = blk + 128, sc = blk + 192;
            short half = b.getShort(blk + 208);
            if (((half >> 10) & 0x1F) == 0x1F) {
                throw new IllegalArgumentException("the scale of Q6_K block " + k + " is " + Float16.toFloat(half));
            }
            float d = Float16.toFloat(half);
            for (int h = 0; h < 2; h++) {
                int o = k * QK_K + h * 128, lq = ql + h * 64, hq = qh + h * 32, s = sc + h * 8;
                for (int l = 0; l < 32; l++) {
                    int lo = b.get(lq + l) & 0xFF, lo32 = b.get(lq + l + 32) & 0xFF, hi = b.get(hq + l) & 0xFF;
                    int is = l / 16;
                    int q1 = ((lo & 0xF) | (hi & 3) << 4) - 32;
                    int q2 = ((lo32 & 0xF) | (hi >> 2 & 3) << 4) - 32;
                    int q3 = ((lo >> 4) | (hi >> 4 & 3) << 4) - 32;
                    int q4 = ((lo32 >> 4) | (hi >> 6 & 3) << 4) - 32;
                    out[o + l] = d * b.get(s + is) * q1;
                    out[o + l + 32] = d * b.get(s + is + 2) * q2;
                    out[o + l + 64] = d * b.get(s + is + 4) * q3;
                    out[o + l + 96] = d * b.get(s + is + 6) * q4;
                }
            }
        }
        return out;
    }
}
