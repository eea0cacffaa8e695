package dev.gpt4j.core.quant;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a weight matrix is stored: the element type of {@link QuantizedMatrix}. Blocks run along a row (the input
 * dimension of a linear layer), {@link #blockSize()} values each, and a row must hold a whole number of them.
 * {@link #bytesPerBlock()} is the size of one block in the file layout (package documentation), not in memory.
 */
public enum QuantType {
    /** IEEE half precision, one value per "block". */
    F16("f16", 1, 2),
    /** llama.cpp's Q8_0: 32 int8 values and an fp16 scale d = amax / 127 (ggml's block_q8_0, 34 bytes). */
    Q8_0("q8_0", 32, 34),
    /** llama.cpp's Q4_0: 32 4-bit values and an fp16 scale d = max / -8 (ggml's block_q4_0, 18 bytes). */
    Q4_0("q4_0", 32, 18),
    /**
     * bitsandbytes' NF4 (QLoRA): 64 indices into the 16 NormalFloat code values, scaled by the block's absmax:
     * 32 bytes of nibbles and a float32 absmax (36 bytes), or 32 + 1 bytes and a 1/256 share of a float32 when the
     * absmax is double-quantized.
     */
    NF4("nf4", 64, 36);

    private final String id;
    private final int blockSize, bytesPerBlock;

    QuantType(String id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** The name used on the command line and in files: "f16", "q8_0", "q4_0", "nf4". */
    public String id() {
        return id;
    }

    /** Values per block; a row's length (cols) must be a multiple of it. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes of one block in the file layout (for NF4 with a float32 absmax). */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** The type named {@code name} ("q8_0", "Q8_0", "nf4", ...); the error lists the choices. */
    public static QuantType parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (QuantType t : values()) if (t.id.equals(n)) return t;
        throw new IllegalArgumentException("unknown weight type '" + name + "': choose one of "
                + Arrays.stream(values()).map(QuantType::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id;
    }
}
