package dev.gpt4j.core.quant;

import dev.gpt4j.core.Float16;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix of a linear layer in a stored format ({@link QuantType}): [rows = out features, cols = in
 * features], row-major, quantized in blocks along each row, as ggml and bitsandbytes lay out an nn.Linear weight.
 * Immutable; any number of threads may read it and run its products at once.
 *
 * <p><b>In memory</b> the parts are kept apart (structure of arrays) so that the kernels read the quantized values
 * as one contiguous stream per row: F16 as halfs; Q8_0 as one int8 per element and one float per block (the fp16
 * scale, widened exactly); Q4_0 as ggml's 16 bytes of nibbles per block and a float scale; NF4 as bitsandbytes'
 * packed nibbles and a float32 absmax per block, or the double-quantized absmax parts. The file layouts (package
 * documentation) are written and read by {@link #writeGgml}, {@link #readGgml}, {@link #nf4Parts} and
 * {@link #fromNf4Parts}; Q8_0 and Q4_0 bytes are those of ggml's reference quantizers, bit for bit.
 *
 * <p><b>Products</b> ({@link #matmul}, {@link #matmulTransposed}) dequantize a block or a few rows at a time and
 * never build the float matrix. Each works on a range of output rows (or input columns) so that a caller can split
 * the work over threads; every output value is computed the same way whatever the range and whatever R, so the
 * result does not depend on the split. Without the Vector API module the scalar loops of
 * {@link ScalarQuantKernels} run; {@link VectorQuantKernels} says where the two give the same bits.
 */
public final class QuantizedMatrix {
    private static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    /** The module is there and its preferred float vectors have 8 or 16 lanes (AVX2, AVX-512). */
    private static final boolean VECTOR_OK = VECTOR_API && VectorQuantKernels.supported();
    private static volatile boolean vector = VECTOR_OK && !"false".equalsIgnoreCase(System.getProperty("gpt4j.vector"));

    final QuantType type;
    final int rows, cols, blocksPerRow;
    /** F16: rows × cols halfs. */
    final short[] halfs;
    /** Q8_0: rows × cols int8; Q4_0: 16 bytes per block (ggml's order); NF4: 32 bytes per block (bitsandbytes'). */
    final byte[] quants;
    /** Q8_0 and Q4_0: each block's fp16 scale as a float (exact); NF4 without double quantization: its absmax. */
    final float[] scales;
    /** NF4 with double quantization: per block an index into nestedMap, per 256 blocks a scale, and the offset. */
    final byte[] absmaxCodes;
    final float[] nestedAbsmax, nestedMap;
    final float nestedOffset;

    private QuantizedMatrix(QuantType type, int rows, int cols, short[] halfs, byte[] quants, float[] scales,
                            byte[] absmaxCodes, float[] nestedAbsmax, float nestedOffset, float[] nestedMap) {
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.blocksPerRow = cols / type.blockSize();
        this.halfs = halfs;
        this.quants = quants;
        this.scales = scales;
        this.absmaxCodes = absmaxCodes;
        this.nestedAbsmax = nestedAbsmax;
        this.nestedOffset = nestedOffset;
        this.nestedMap = nestedMap;
    }

    // ---------------------------------------------------------------------------------------------- quantizing

    /** {@code w} ([rows, cols] row-major) stored as {@code type}; NF4 without double quantization. */
    public static QuantizedMatrix quantize(QuantType type, float[] w, int rows, int cols) {
        return quantize(type, w, rows, cols, false);
    }

    /**
     * {@code w} ([rows, cols] row-major, its first rows × cols values) stored as {@code type}, by the reference
     * quantizers ({@link Quantizers}). {@code doubleQuant} (NF4 only) quantizes the absmax values too, as
     * bitsandbytes' {@code compress_statistics=True} does. Throws when cols is not a multiple of the block size, when
     * a value is not finite, or when a scale does not fit an fp16.
     */
    public static QuantizedMatrix quantize(QuantType type, float[] w, int rows, int cols, boolean doubleQuant) {
        int n = checkShape(type, rows, cols);
        if (w.length < n) throw new IllegalArgumentException("the weights hold " + w.length + " values, [" + rows + ", " + cols + "] needs " + n);
        if (doubleQuant && type != QuantType.NF4) throw new IllegalArgumentException("double quantization is for NF4 only, not " + type);
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(w[i])) throw new IllegalArgumentException("weight [" + i / cols + ", " + i % cols + "] is " + w[i] + ": only finite values can be quantized");
        }
        int blocks = n / type.blockSize();
        switch (type) {
            case F16: {
                short[] h = new short[n];
                for (int i = 0; i < n; i++) {
                    h[i] = Float16.fromFloat(w[i]);
                    if (((h[i] >> 10) & 0x1F) == 0x1F) throw new IllegalArgumentException("weight [" + i / cols + ", " + i % cols + "] = " + w[i] + " is too large for F16 (max 65504)");
                }
                return new QuantizedMatrix(type, rows, cols, h, null, null, null, null, 0f, null);
            }
            case Q8_0: {
                byte[] q = new byte[n];
                float[] d = new float[blocks];
                for (int b = 0; b < blocks; b++) d[b] = Float16.toFloat(checkScale(Quantizers.q8_0(w, b * 32, q, b * 32), type, b, cols));
                return new QuantizedMatrix(type, rows, cols, null, q, d, null, null, 0f, null);
            }
            case Q4_0: {
                byte[] q = new byte[n / 2];
                float[] d = new float[blocks];
                for (int b = 0; b < blocks; b++) d[b] = Float16.toFloat(checkScale(Quantizers.q4_0(w, b * 32, q, b * 16), type, b, cols));
                return new QuantizedMatrix(type, rows, cols, null, q, d, null, null, 0f, null);
            }
            case NF4: {
                byte[] q = new byte[n / 2];
                float[] absmax = new float[blocks];
                for (int b = 0; b < blocks; b++) absmax[b] = Quantizers.nf4(w, b * 64, q, b * 32);
                if (!doubleQuant) return new QuantizedMatrix(type, rows, cols, null, q, absmax, null, null, 0f, null);
                Quantizers.Nested dq = Quantizers.doubleQuant(absmax, Nf4.DYNAMIC);
                return new QuantizedMatrix(type, rows, cols, null, q, null, dq.codes(), dq.scales(), dq.offset(), Nf4.DYNAMIC.clone());
            }
            default:
                throw new AssertionError(type);
        }
    }

    private static short checkScale(short half, QuantType type, int block, int cols) {
        if (((half >> 10) & 0x1F) == 0x1F) {
            int perRow = cols / 32;
            throw new IllegalArgumentException("block " + block % perRow + " of row " + block / perRow + ": its " + type
                    + " scale is too large for an fp16 (a weight beyond " + (type == QuantType.Q8_0 ? "65504 × 127" : "65504 × 8") + ")");
        }
        return half;
    }

    /** rows × cols, after checking that the shape fits the type. */
    private static int checkShape(QuantType type, int rows, int cols) {
        if (type == null) throw new IllegalArgumentException("no weight type given");
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " stores rows in blocks of " + type.blockSize() + " values; a row of "
                    + cols + " is not a multiple of " + type.blockSize());
        }
        long n = (long) rows * cols;
        if (n > Integer.MAX_VALUE - 64) throw new IllegalArgumentException("[" + rows + ", " + cols + "] is too large for one array");
        return (int) n;
    }

    // ---------------------------------------------------------------------------------------------- reading

    public QuantType type() {
        return type;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Whether the NF4 absmax values are double-quantized. */
    public boolean doubleQuant() {
        return absmaxCodes != null;
    }

    /** The bytes of the arrays this matrix holds (its memory, array headers aside). */
    public long bytes() {
        long b = 0;
        if (halfs != null) b += 2L * halfs.length;
        if (quants != null) b += quants.length;
        if (scales != null) b += 4L * scales.length;
        if (absmaxCodes != null) b += absmaxCodes.length + 4L * nestedAbsmax.length + 4L * nestedMap.length + 4;
        return b;
    }

    /** The scale of block {@code block} (counted over the whole matrix): d for Q8_0/Q4_0, the absmax for NF4. */
    float scale(int block) {
        if (absmaxCodes == null) return scales[block];
        // bitsandbytes' dequantize_blockwise: code * absmax in float32, then += offset
        return nestedMap[absmaxCodes[block] & 0xFF] * nestedAbsmax[block >>> 8] + nestedOffset;
    }

    /** Row {@code r} as floats into out[0, cols). */
    public void dequantizeRow(int r, float[] out) {
        if (r < 0 || r >= rows) throw new IndexOutOfBoundsException("row " + r + " of " + rows);
        if (out.length < cols) throw new IllegalArgumentException("out holds " + out.length + " floats, a row has " + cols);
        ScalarQuantKernels.dequantize(this, r, 0, blocksPerRow, out, 0);
    }

    /** The whole matrix as floats, [rows, cols] row-major (for tests and for merging adapters). */
    public float[] dequantize() {
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) ScalarQuantKernels.dequantize(this, r, 0, blocksPerRow, w, r * cols);
        return w;
    }

    // ---------------------------------------------------------------------------------------------- products

    /**
     * y[r, o] = Σ_i x[r, i] · W[o, i] for r &lt; R and o in [rowFrom, rowTo): x is [R, cols] and y is [R, rows],
     * both row-major; other entries of y are left alone. R = 1 is a generation step, larger R a prompt (each
     * dequantized row is then used for all R rows of x).
     */
    public void matmul(float[] x, int R, float[] y, int rowFrom, int rowTo) {
        if (R < 0) throw new IllegalArgumentException("R = " + R);
        if (rowFrom < 0 || rowFrom > rowTo || rowTo > rows) throw new IllegalArgumentException("rows [" + rowFrom + ", " + rowTo + ") of " + rows);
        if (x.length < (long) R * cols) throw new IllegalArgumentException("x holds " + x.length + " floats, [" + R + ", " + cols + "] needs " + (long) R * cols);
        if (y.length < (long) R * rows) throw new IllegalArgumentException("y holds " + y.length + " floats, [" + R + ", " + rows + "] needs " + (long) R * rows);
        if (R == 0 || rowFrom == rowTo) return;
        if (vector) VectorQuantKernels.matmul(this, x, R, y, rowFrom, rowTo);
        else ScalarQuantKernels.matmul(this, x, R, y, rowFrom, rowTo);
    }

    /** Whether {@link #matmul(Q8Activations, float[], int, int)} takes this matrix: Q8_0 and Q4_0, as in llama.cpp. */
    public boolean takesQ8Activations() {
        return type == QuantType.Q8_0 || type == QuantType.Q4_0;
    }

    /**
     * y[r, o] for r &lt; x.rows() and o in [rowFrom, rowTo) as llama.cpp computes a product of Q8_0 or Q4_0 weights:
     * with the activations quantized to Q8_0 blocks ({@link Q8Activations}), an integer dot product per block
     * (Σ q_w · q_x), scaled by the block's d_w · d_x and summed in float (ggml's {@code ggml_vec_dot_q8_0_q8_0} and
     * {@code ggml_vec_dot_q4_0_q8_0}). y is [R, rows] row-major; other entries are left alone. Every output is
     * computed the same way whatever R and the row range. The Vector API loops and the scalar ones sum the block
     * products in different orders, so they differ by float rounding ({@link VectorQuantKernels#matmulQ8}).
     *
     * <p>Against {@link #matmul(float[], int, float[], int, int)} on the float activations this adds the rounding of
     * each activation to 8 bits of its block's largest magnitude (a relative error up to 1/254 of it).
     */
    public void matmul(Q8Activations x, float[] y, int rowFrom, int rowTo) {
        if (!takesQ8Activations()) throw new IllegalStateException("products with Q8_0 activations are for Q8_0 and Q4_0 weights, not " + type);
        if (x.cols != cols) throw new IllegalArgumentException("the activations have rows of " + x.cols + ", this matrix takes " + cols);
        int R = x.rows;
        if (rowFrom < 0 || rowFrom > rowTo || rowTo > rows) throw new IllegalArgumentException("rows [" + rowFrom + ", " + rowTo + ") of " + rows);
        if (y.length < (long) R * rows) throw new IllegalArgumentException("y holds " + y.length + " floats, [" + R + ", " + rows + "] needs " + (long) R * rows);
        if (R == 0 || rowFrom == rowTo) return;
        if (vector) VectorQuantKernels.matmulQ8(this, x, y, rowFrom, rowTo);
        else ScalarQuantKernels.matmulQ8(this, x, y, rowFrom, rowTo);
    }

    /**
     * dx[r, i] += Σ_o dy[r, o] · W[o, i] for r &lt; R and i in [colFrom, colTo): the gradient of {@link #matmul}'s
     * input through this (frozen) matrix. dy is [R, rows] and dx [R, cols], both row-major. The sum over o runs
     * in ascending order onto dx's value, one fused multiply-add per term.
     */
    public void matmulTransposed(float[] dy, int R, float[] dx, int colFrom, int colTo) {
        if (R < 0) throw new IllegalArgumentException("R = " + R);
        if (colFrom < 0 || colFrom > colTo || colTo > cols) throw new IllegalArgumentException("columns [" + colFrom + ", " + colTo + ") of " + cols);
        if (dy.length < (long) R * rows) throw new IllegalArgumentException("dy holds " + dy.length + " floats, [" + R + ", " + rows + "] needs " + (long) R * rows);
        if (dx.length < (long) R * cols) throw new IllegalArgumentException("dx holds " + dx.length + " floats, [" + R + ", " + cols + "] needs " + (long) R * cols);
        if (R == 0 || colFrom == colTo || rows == 0) return;
        if (vector) VectorQuantKernels.matmulTransposed(this, dy, R, dx, colFrom, colTo);
        else ScalarQuantKernels.matmulTransposed(this, dy, R, dx, colFrom, colTo);
    }

    /** Whether the products run on the Vector API (the module is in the JVM, 8 or 16 float lanes, not turned off). */
    public static boolean vectorized() {
        return vector;
    }

    /** Turns the Vector API kernels on (when they can run) or off; the tests compare the two. */
    static void setVectorized(boolean on) {
        vector = on && VECTOR_OK;
    }

    // ---------------------------------------------------------------------------------------------- files

    /** The size of {@link #writeGgml}'s output: rows × cols / block size × bytes per block. */
    public long ggmlBytes() {
        if (type == QuantType.NF4) throw new IllegalStateException("NF4 is not a ggml type: use nf4Parts()");
        return (long) rows * blocksPerRow * type.bytesPerBlock();
    }

    /**
     * Writes the matrix as ggml stores a tensor of its type, at {@code out}'s position (advancing it), little-endian
     * whatever {@code out}'s order: F16 halfs; Q8_0 blocks {fp16 d, 32 × int8}; Q4_0 blocks {fp16 d, 16 bytes, element
     * j in the low nibble of byte j and j + 16 in its high nibble}. NF4 has no ggml layout ({@link #nf4Parts()}).
     */
    public void writeGgml(ByteBuffer out) {
        long size = ggmlBytes();
        if (out.remaining() < size) throw new IllegalArgumentException("the buffer has " + out.remaining() + " bytes left, " + type + " [" + rows + ", " + cols + "] needs " + size);
        ByteBuffer le = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int blocks = rows * blocksPerRow;
        switch (type) {
            case F16 -> {
                for (short h : halfs) le.putShort(h);
            }
            case Q8_0 -> {
                for (int b = 0; b < blocks; b++) {
                    le.putShort(Float16.fromFloat(scales[b]));
                    le.put(quants, b * 32, 32);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < blocks; b++) {
                    le.putShort(Float16.fromFloat(scales[b]));
                    le.put(quants, b * 16, 16);
                }
            }
            default -> throw new AssertionError(type);
        }
        out.position(le.position());
    }

    /**
     * Reads a [rows, cols] matrix of {@code type} (F16, Q8_0 or Q4_0) in ggml's layout ({@link #writeGgml}) from
     * {@code in}'s position, advancing it. Throws on a scale or half that is infinite or NaN.
     */
    public static QuantizedMatrix readGgml(QuantType type, int rows, int cols, ByteBuffer in) {
        int n = checkShape(type, rows, cols);
        if (type == QuantType.NF4) throw new IllegalArgumentException("NF4 is not a ggml type: use fromNf4Parts");
        long size = (long) n / type.blockSize() * type.bytesPerBlock();
        if (in.remaining() < size) throw new IllegalArgumentException(type + " [" + rows + ", " + cols + "] needs " + size + " bytes, " + in.remaining() + " are left");
        ByteBuffer le = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int blocks = n / type.blockSize();
        QuantizedMatrix m;
        switch (type) {
            case F16 -> {
                short[] h = new short[n];
                for (int i = 0; i < n; i++) h[i] = finiteHalf(le.getShort(), "value [" + i / Math.max(1, cols) + ", " + i % Math.max(1, cols) + "]");
                m = new QuantizedMatrix(type, rows, cols, h, null, null, null, null, 0f, null);
            }
            case Q8_0, Q4_0 -> {
                int qb = type == QuantType.Q8_0 ? 32 : 16;
                byte[] q = new byte[blocks * qb];
                float[] d = new float[blocks];
                for (int b = 0; b < blocks; b++) {
                    d[b] = Float16.toFloat(finiteHalf(le.getShort(), "the scale of block " + b % (cols / 32) + " of row " + b / (cols / 32)));
                    le.get(q, b * qb, qb);
                }
                m = new QuantizedMatrix(type, rows, cols, null, q, d, null, null, 0f, null);
            }
            default -> throw new AssertionError(type);
        }
        in.position(le.position());
        return m;
    }

    private static short finiteHalf(short h, String what) {
        if (((h >> 10) & 0x1F) == 0x1F) throw new IllegalArgumentException(what + " is " + Float16.toFloat(h) + " (fp16 bits 0x" + Integer.toHexString(h & 0xFFFF) + ")");
        return h;
    }

    /** The stored parts of an NF4 matrix (copies), for a model file. */
    public Nf4Parts nf4Parts() {
        if (type != QuantType.NF4) throw new IllegalStateException("nf4Parts of a " + type + " matrix");
        if (absmaxCodes == null) return new Nf4Parts(quants.clone(), scales.clone(), null, null, 0f, null);
        return new Nf4Parts(quants.clone(), null, absmaxCodes.clone(), nestedAbsmax.clone(), nestedOffset, nestedMap.clone());
    }

    /** An NF4 [rows, cols] matrix from its stored parts (copied), checking their sizes and that scales are finite. */
    public static QuantizedMatrix fromNf4Parts(int rows, int cols, Nf4Parts p) {
        int n = checkShape(QuantType.NF4, rows, cols);
        int blocks = n / Nf4.BLOCK;
        requireLength("packed", p.packed(), n / 2);
        if (!p.doubleQuant()) {
            requireLength("absmax", p.absmax(), blocks);
            requireFinite("absmax", p.absmax());
            return new QuantizedMatrix(QuantType.NF4, rows, cols, null, p.packed().clone(), p.absmax().clone(), null, null, 0f, null);
        }
        if (p.absmax() != null) throw new IllegalArgumentException("NF4 parts have both a float absmax and double-quantized absmax codes");
        requireLength("absmax codes", p.absmaxCodes(), blocks);
        requireLength("nested absmax", p.nestedAbsmax(), (blocks + Nf4.NESTED_BLOCK - 1) / Nf4.NESTED_BLOCK);
        requireLength("nested quant map", p.nestedMap(), 256);
        requireFinite("nested absmax", p.nestedAbsmax());
        requireFinite("nested quant map", p.nestedMap());
        if (!Float.isFinite(p.nestedOffset())) throw new IllegalArgumentException("NF4 nested offset is " + p.nestedOffset());
        return new QuantizedMatrix(QuantType.NF4, rows, cols, null, p.packed().clone(), null, p.absmaxCodes().clone(),
                p.nestedAbsmax().clone(), p.nestedOffset(), p.nestedMap().clone());
    }

    private static void requireLength(String what, Object array, int n) {
        if (array == null) throw new IllegalArgumentException("NF4 " + what + " is missing");
        int len = array instanceof byte[] b ? b.length : ((float[]) array).length;
        if (len != n) throw new IllegalArgumentException("NF4 " + what + " has " + len + " values, the shape needs " + n);
    }

    private static void requireFinite(String what, float[] a) {
        for (int i = 0; i < a.length; i++) if (!Float.isFinite(a[i])) throw new IllegalArgumentException("NF4 " + what + " [" + i + "] is " + a[i]);
    }

    @Override
    public String toString() {
        return type + (doubleQuant() ? "+dq" : "") + " [" + rows + ", " + cols + "]";
    }
}
