package dev.gpt4j.core.quant;

/**
 * The stored parts of an NF4 matrix, as they go into a model file (the package documentation has the tensor names
 * and shapes). Either {@code absmax} is set (one float32 per block of 64), or the absmax is double-quantized and
 * {@code absmaxCodes}, {@code nestedAbsmax}, {@code nestedOffset} and {@code nestedMap} are set; the block's absmax
 * is then {@code nestedMap[absmaxCodes[b] & 0xFF] * nestedAbsmax[b / 256] + nestedOffset} in float32.
 *
 * <p>{@link QuantizedMatrix#nf4Parts()} hands out copies and {@link QuantizedMatrix#fromNf4Parts} copies what it
 * is given, so a matrix never shares these arrays.
 *
 * @param packed       rows × cols / 2 bytes: byte k of a row holds element 2k in its high nibble and 2k + 1 in its
 *                     low nibble (bitsandbytes' packing), each nibble an index into {@link Nf4#codeValues()}
 * @param absmax       rows × cols / 64 float32 scales, or null when double-quantized
 * @param absmaxCodes  rows × cols / 64 bytes, indices into {@code nestedMap}, or null
 * @param nestedAbsmax ceil(blocks / 256) float32 scales of the absmax codes, or null
 * @param nestedOffset the mean of the absmax values, subtracted before their quantization (0 when not used)
 * @param nestedMap    the 256 ascending values the absmax codes index ({@link Nf4#dynamicMapValues()}), or null
 */
public record Nf4Parts(byte[] packed, float[] absmax, byte[] absmaxCodes, float[] nestedAbsmax, float nestedOffset,
                       float[] nestedMap) {
    /** Whether the absmax values are double-quantized. */
    public boolean doubleQuant() {
        return absmaxCodes != null;
    }
}
