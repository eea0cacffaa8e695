package dev.gpt4j.core.gguf;

/**
 * The ggml tensor types a GGUF file can name, by their numeric id, with their block layout: a tensor's row
 * ({@code ne[0]} elements) is cut into blocks of {@link #blockSize()} consecutive values, each stored in
 * {@link #bytesPerBlock()} bytes. Ids and sizes are ggml's ({@code ggml.h}, {@code ggml-common.h}, and gguf-py's
 * {@code GGML_QUANT_SIZES}); the ids ggml removed (4, 5, 31-33, 36-38) are absent, so {@link #byId} refuses them
 * like any unknown id. gpt4j decodes only the {@link #supported()} ones; the others are known so that a file using
 * them can be opened and refused with the type's name.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** Blocks of 32: f16 scale d, then 16 bytes of 4-bit quants (value = (q - 8) * d). */
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    /** Blocks of 32: f16 scale d, then 32 signed bytes (value = q * d). */
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    /** Blocks of 256: 128 bytes of low nibbles, 64 of high bit pairs, 16 int8 sub-block scales, fp16 d (read only). */
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    MXFP4(39, 32, 17),
    NVFP4(40, 64, 36),
    Q1_0(41, 128, 18),
    Q2_0(42, 64, 18);

    private static final GgmlType[] BY_ID = new GgmlType[43];

    static {
        for (GgmlType t : values()) BY_ID[t.id] = t;
    }

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** The id stored in a GGUF tensor info. */
    public int id() {
        return id;
    }

    /** Consecutive values along {@code ne[0]} that share one block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes one block takes. */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /**
     * Whether gpt4j reads tensors of this type: F32, F16, Q8_0 and Q4_0 (which it also writes), and Q6_K (read only,
     * dequantized to float32: llama.cpp's quantizer puts the LM head of a Q4_0 file in it).
     */
    public boolean supported() {
        return this == F32 || this == F16 || this == Q8_0 || this == Q4_0 || this == Q6_K;
    }

    /**
     * Bytes for a row of {@code n} elements (n must be a multiple of the block size), or for a whole tensor of n
     * elements whose rows are. Throws ArithmeticException on overflow.
     */
    public long rowBytes(long n) {
        if (n < 0 || n % blockSize != 0) {
            throw new IllegalArgumentException(this + " stores values in blocks of " + blockSize + "; " + n + " is not a multiple");
        }
        return Math.multiplyExact(n / blockSize, (long) bytesPerBlock);
    }

    /** The type with this id, or null if ggml has none (unknown or removed). */
    public static GgmlType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    /** "Q5_K (id 13)", the way errors name a type. */
    public String describe() {
        return name() + " (id " + id + ")";
    }
}
