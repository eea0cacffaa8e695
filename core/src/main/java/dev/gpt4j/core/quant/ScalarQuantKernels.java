package dev.gpt4j.core.quant;

/**
 * The products of {@link QuantizedMatrix} in plain Java, for a JVM without the Vector API module, and the
 * dequantization every path shares. A row is dequantized into a scratch row and used for all R rows of the input.
 *
 * <p>Dequantized values are exact products: q · d for Q8_0 (|q| ≤ 127) and Q4_0 (|q - 8| ≤ 8) times an fp16 d
 * need at most 18 significant bits, and a half widens to a float exactly; NF4's code · absmax is one float32
 * rounding, the one bitsandbytes makes. So every path sees the same weights, bit for bit.
 */
final class ScalarQuantKernels {
    private ScalarQuantKernels() {}

    /** An fp16 value as a float, exactly, for every finite half: its magnitude bits moved into a float and × 2^112. */
    static float halfToFloat(short h) {
        float f = Float.intBitsToFloat((h & 0x7FFF) << 13) * 0x1p112f;
        return h < 0 ? -f : f;
    }

    /** Blocks [bFrom, bTo) of row {@code row} as floats into out[off, off + (bTo - bFrom) · block size). */
    static void dequantize(QuantizedMatrix m, int row, int bFrom, int bTo, float[] out, int off) {
        int bpr = m.blocksPerRow;
        switch (m.type) {
            case F16 -> {
                int base = row * m.cols;
                for (int c = bFrom; c < bTo; c++) out[off + c - bFrom] = halfToFloat(m.halfs[base + c]);
            }
            case Q8_0 -> {
                for (int b = bFrom; b < bTo; b++) {
                    int g = row * bpr + b, o = off + (b - bFrom) * 32;
                    float d = m.scales[g];
                    for (int j = 0; j < 32; j++) out[o + j] = m.quants[g * 32 + j] * d;
                }
            }
            case Q4_0 -> {
                for (int b = bFrom; b < bTo; b++) {
                    int g = row * bpr + b, o = off + (b - bFrom) * 32;
                    float d = m.scales[g];
                    for (int j = 0; j < 16; j++) {
                        int v = m.quants[g * 16 + j];
                        out[o + j] = ((v & 0x0F) - 8) * d;
                        out[o + 16 + j] = (((v >> 4) & 0x0F) - 8) * d;
                    }
                }
            }
            case NF4 -> {
                for (int b = bFrom; b < bTo; b++) {
                    int g = row * bpr + b, o = off + (b - bFrom) * 64;
                    float s = m.scale(g);
                    for (int k = 0; k < 32; k++) {
                        int v = m.quants[g * 32 + k];
                        out[o + 2 * k] = Nf4.CODE[(v >> 4) & 0x0F] * s;
                        out[o + 2 * k + 1] = Nf4.CODE[v & 0x0F] * s;
                    }
                }
            }
        }
    }

    /** {@link QuantizedMatrix#matmul}: each y[r, o] summed in index order in float. */
    static void matmul(QuantizedMatrix m, float[] x, int R, float[] y, int rowFrom, int rowTo) {
        int cols = m.cols, rows = m.rows;
        float[] w = new float[cols];
        for (int o = rowFrom; o < rowTo; o++) {
            dequantize(m, o, 0, m.blocksPerRow, w, 0);
            for (int r = 0; r < R; r++) {
                int xo = r * cols;
                float s = 0f;
                for (int i = 0; i < cols; i++) s += w[i] * x[xo + i];
                y[r * rows + o] = s;
            }
        }
    }

    /**
     * {@link QuantizedMatrix#matmul(Q8Activations, float[], int, int)} by the definition, as ggml's generic
     * {@code ggml_vec_dot_q8_0_q8_0} and {@code ggml_vec_dot_q4_0_q8_0} compute it: per block the integer sum of the
     * products of the quantized values, then y += sumi · (d_w · d_x) in float, block after block (two roundings per
     * block: the product, then the sum).
     */
    static void matmulQ8(QuantizedMatrix m, Q8Activations x, float[] y, int rowFrom, int rowTo) {
        int nb = m.blocksPerRow, cols = m.cols, rows = m.rows, R = x.rows;
        byte[] q = m.quants;
        for (int o = rowFrom; o < rowTo; o++) {
            for (int r = 0; r < R; r++) {
                float s = 0f;
                for (int b = 0; b < nb; b++) {
                    int g = o * nb + b, xo = r * cols + b * 32, sumi = 0;
                    if (m.type == QuantType.Q8_0) {
                        for (int j = 0; j < 32; j++) sumi += q[g * 32 + j] * (int) x.q[xo + j];
                    } else {
                        for (int j = 0; j < 16; j++) {
                            int v = q[g * 16 + j];
                            sumi += ((v & 0x0F) - 8) * (int) x.q[xo + j] + (((v >> 4) & 0x0F) - 8) * (int) x.q[xo + 16 + j];
                        }
                    }
                    s += sumi * (m.scales[g] * x.d[r * nb + b]);
                }
                y[r * rows + o] = s;
            }
        }
    }

    /**
     * {@link QuantizedMatrix#matmulTransposed}: dx[r, i] = fma(W[o, i], dy[r, o], dx[r, i]) for o ascending, the
     * same operations in the same order as the vector loops, hence the same bits.
     */
    static void matmulTransposed(QuantizedMatrix m, float[] dy, int R, float[] dx, int colFrom, int colTo) {
        int bs = m.type.blockSize(), rows = m.rows, cols = m.cols;
        int bFrom = colFrom / bs, bTo = (colTo + bs - 1) / bs, skip = colFrom - bFrom * bs, span = colTo - colFrom;
        float[] w = new float[(bTo - bFrom) * bs];
        for (int o = 0; o < rows; o++) {
            dequantize(m, o, bFrom, bTo, w, 0);
            for (int r = 0; r < R; r++) {
                float g = dy[r * rows + o];
                int xo = r * cols + colFrom;
                for (int i = 0; i < span; i++) dx[xo + i] = Math.fma(w[skip + i], g, dx[xo + i]);
            }
        }
    }
}
