package dev.gpt4j.core.quant;

import dev.gpt4j.core.Float16;

import java.util.Arrays;

/**
 * Rows of activations quantized to Q8_0 blocks as llama.cpp's CPU backend quantizes the input of a product with Q8_0
 * or Q4_0 weights, for {@link QuantizedMatrix#matmul(Q8Activations, float[], int, int)}. A reusable buffer: each
 * {@link #quantize} replaces what it held. Not thread-safe while quantizing; any number of products may then read it.
 *
 * <p><b>The rounding</b> is that of ggml-cpu's {@code quantize_row_q8_0} on x86 (AVX, AVX2, AVX-512 builds; llama.cpp
 * release v0.5.0, the one node-llama-cpp 3.22.1 ships): per block of 32, amax = max |x|, the stored scale
 * d = fp16(amax / 127) (to nearest even), and q = rint(x · (127 / amax)) with ties to even (0 for an all-zero block).
 * Two details differ from the reference {@code quantize_row_q8_0_ref} that files are quantized with (q = roundf(x ·
 * (1 / (amax / 127))), ties away from zero): the multiplier and the tie rule. Either gives the same q but for an x
 * within an ulp of a half; this class follows what llama.cpp computes with at run time on the machines gpt4j runs on.
 * In the degenerate blocks where 127 / amax overflows (amax below 3.7e-37, so d is 0 in fp16) or amax is not finite,
 * q is what x86's conversion makes of an infinite or NaN product: -128 (0x80000000 saturated by the packs); such a
 * block then adds 0 (finite d) or a non-finite value (infinite or NaN amax), as in llama.cpp.
 *
 * <p>In memory each q is kept as a float (exactly) and each d widened to a float (exactly), so that the products'
 * inner loops load them as they are; {@link #ggmlBlocks} gives the bytes of ggml's {@code block_q8_0}.
 */
public final class Q8Activations {
    private static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    private static final boolean VECTOR_OK = VECTOR_API && VectorQuantKernels.supported();

    int rows, cols, blocksPerRow;
    /** rows × cols quantized values, each an integer in [-128, 127] held as a float. */
    float[] q = new float[0];
    /** rows × blocksPerRow scales: fp16(amax / 127) as a float. */
    float[] d = new float[0];

    /** An empty buffer (0 rows); {@link #quantize} sizes it. */
    public Q8Activations() {}

    /** x [R, cols] (row-major, its first R · cols values) quantized; cols must be a multiple of 32. */
    public static Q8Activations of(float[] x, int R, int cols) {
        Q8Activations a = new Q8Activations();
        a.quantize(x, R, cols);
        return a;
    }

    /** Quantizes x [R, cols] (all its rows), replacing what this held. */
    public void quantize(float[] x, int R, int cols) {
        resize(R, cols);
        if (x.length < (long) R * cols) throw new IllegalArgumentException("x holds " + x.length + " floats, [" + R + ", " + cols + "] needs " + (long) R * cols);
        quantizeRows(x, 0, R);
    }

    /**
     * Makes room for [R, cols] (growing the arrays when needed; what it held is lost), for {@link #quantizeRows} to fill
     * in parts, from several threads if need be (each its own rows).
     */
    public void resize(int R, int cols) {
        if (R < 0) throw new IllegalArgumentException("R = " + R);
        if (cols < 0 || cols % 32 != 0) throw new IllegalArgumentException("Q8_0 activations come in blocks of 32; a row of " + cols + " is not a multiple of 32");
        long n = (long) R * cols;
        if (n > Integer.MAX_VALUE - 64) throw new IllegalArgumentException("[" + R + ", " + cols + "] is too large for one array");
        if (q.length < n) q = new float[(int) n];
        if (d.length < n / 32) d = new float[(int) (n / 32)];
        this.rows = R;
        this.cols = cols;
        this.blocksPerRow = cols / 32;
    }

    /** Quantizes rows [rowFrom, rowTo) of x [rows(), cols()] into the same rows here (after {@link #resize}). */
    public void quantizeRows(float[] x, int rowFrom, int rowTo) {
        if (rowFrom < 0 || rowFrom > rowTo || rowTo > rows) throw new IllegalArgumentException("rows [" + rowFrom + ", " + rowTo + ") of " + rows);
        if (x.length < (long) rowTo * cols) throw new IllegalArgumentException("x holds " + x.length + " floats, " + rowTo + " rows of " + cols + " need " + (long) rowTo * cols);
        int b0 = rowFrom * blocksPerRow, b1 = rowTo * blocksPerRow;
        if (QuantizedMatrix.vectorized() && VECTOR_OK) VectorQuantKernels.quantizeQ8(x, q, d, b0, b1);
        else for (int b = b0; b < b1; b++) quantizeBlock(x, q, d, b);
    }

    /**
     * Block b (values 32b to 32b + 31 of x) into q and d, in plain Java: the definition in the class comment, step by
     * step. {@link VectorQuantKernels#quantizeQ8} gives the same values.
     */
    static void quantizeBlock(float[] x, float[] q, float[] d, int b) {
        int o = b * 32;
        float amax = 0f;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j])); // NaN propagates
        d[b] = ScalarQuantKernels.halfToFloat(Float16.fromFloat(amax / 127f));
        float id = amax != 0f ? 127f / amax : 0f;
        for (int j = 0; j < 32; j++) q[o + j] = x86RoundToInt8(x[o + j] * id);
    }

    /**
     * What ggml's x86 quantizer stores for t = x · id: _mm256_round_ps to nearest even, _mm256_cvtps_epi32 (NaN and
     * values beyond the int range give 0x80000000), then the saturating packs to int16 and int8.
     */
    static float x86RoundToInt8(float t) {
        if (!(Math.abs(t) < 0x1p31f)) return -128f; // NaN, infinite or out of int range: the "integer indefinite"
        float r = (float) Math.rint(t);
        return Math.max(-128f, Math.min(127f, r));
    }

    /** Rows held (the R of the last {@link #quantize} or {@link #resize}). */
    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Row {@code row} as ggml's {@code block_q8_0}s: per block the fp16 scale (little-endian), then 32 int8. */
    public byte[] ggmlBlocks(int row) {
        if (row < 0 || row >= rows) throw new IndexOutOfBoundsException("row " + row + " of " + rows);
        byte[] out = new byte[blocksPerRow * 34];
        for (int k = 0; k < blocksPerRow; k++) {
            int b = row * blocksPerRow + k;
            short h = Float16.fromFloat(d[b]);
            out[34 * k] = (byte) h;
            out[34 * k + 1] = (byte) (h >> 8);
            for (int j = 0; j < 32; j++) out[34 * k + 2 + j] = (byte) q[b * 32 + j];
        }
        return out;
    }

    /** Row {@code row}'s quantized values q (as ints) into out[0, cols). */
    public void quants(int row, int[] out) {
        if (row < 0 || row >= rows) throw new IndexOutOfBoundsException("row " + row + " of " + rows);
        for (int i = 0; i < cols; i++) out[i] = (int) q[row * cols + i];
    }

    /** The scales of row {@code row}'s blocks (fp16 values as floats). */
    public float[] scales(int row) {
        if (row < 0 || row >= rows) throw new IndexOutOfBoundsException("row " + row + " of " + rows);
        return Arrays.copyOfRange(d, row * blocksPerRow, (row + 1) * blocksPerRow);
    }

    /** Row {@code row} dequantized, q · d (for the ND4J path, which multiplies these values by the weights in float). */
    public void dequantizeRow(int row, float[] out, int off) {
        if (row < 0 || row >= rows) throw new IndexOutOfBoundsException("row " + row + " of " + rows);
        for (int i = 0; i < cols; i++) out[off + i] = q[row * cols + i] * d[row * blocksPerRow + i / 32];
    }

    @Override
    public String toString() {
        return "Q8_0 activations [" + rows + ", " + cols + "]";
    }
}
