package dev.gpt4j.core.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The products of {@link QuantizedMatrix} on the Vector API (jdk.incubator.vector), with L float lanes (16 with
 * AVX-512, 8 with AVX2; other widths take the scalar loops). Loaded only when the JVM has the module.
 *
 * <p><b>How y[r, o] is summed</b>, on every path here: L lane sums, lane k over the columns i ≡ k (mod L) in
 * ascending order with one fused multiply-add per term, starting from zero; then a fixed tree over the lanes
 * ({@link #sum}); then any columns past the last whole vector (F16 rows only) by scalar fused multiply-adds in
 * order. The weights are the exact dequantized values ({@link ScalarQuantKernels}), so the fused one-row loop
 * ({@link #matvec}, R = 1) and the tiled loop (R &gt; 1) give the same bits, whatever R and the row range.
 * {@code reduceLanes} is not used: its order is unspecified and may differ between the interpreter and C2.
 *
 * <p><b>Vector against scalar</b>: {@link #matmulTransposed} gives the same bits as the scalar loop (both apply
 * fma(W[o, i], dy[r, o], ·) to dx[r, i] for o ascending; lane-wise operations are exactly IEEE). {@link #matmul}
 * does not: the scalar loop sums each y[r, o] in index order, this one in L interleaved partial sums, so the two
 * differ by float rounding (a few ulps of Σ|w·x|).
 *
 * <p>NF4 is dequantized through a 256-entry table per nibble position (scalar loads), then scaled with vectors:
 * in JDK 17 lane lookups ({@code selectFrom}, {@code rearrange} with a computed shuffle, gathers) were measured
 * 2 to 6 times slower than that here.
 */
final class VectorQuantKernels {
    private VectorQuantKernels() {}

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final int L = FS.length();
    private static final boolean SUPPORTED = L == 8 || L == 16;
    /** L bytes, L shorts and L ints: the sources of one float vector. */
    private static final VectorSpecies<Byte> BS = SUPPORTED ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L)) : null;
    private static final VectorSpecies<Short> SS = SUPPORTED ? VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L)) : null;
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    /** Lane k takes lane k + h (mod L): the steps of {@link #sum}. */
    private static final VectorShuffle<Float> SH8 = L == 16 ? VectorShuffle.iota(FS, 8, 1, true) : null;
    private static final VectorShuffle<Float> SH4 = VectorShuffle.iota(FS, 4, 1, true);
    private static final VectorShuffle<Float> SH2 = VectorShuffle.iota(FS, 2, 1, true);
    private static final VectorShuffle<Float> SH1 = VectorShuffle.iota(FS, 1, 1, true);
    /** NF4 code of the high and of the low nibble of a byte. */
    private static final float[] NF4_HI = new float[256], NF4_LO = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            NF4_HI[b] = Nf4.CODE[b >> 4];
            NF4_LO[b] = Nf4.CODE[b & 0x0F];
        }
    }

    /** Whether these loops can run here (8 or 16 float lanes). */
    static boolean supported() {
        return SUPPORTED;
    }

    /** The lanes of v summed by a fixed tree: ((v0 + v8) + (v4 + v12)) + ... for L = 16. */
    private static float sum(FloatVector v) {
        if (L == 16) v = v.add(v.rearrange(SH8));
        v = v.add(v.rearrange(SH4));
        v = v.add(v.rearrange(SH2));
        v = v.add(v.rearrange(SH1));
        return v.lane(0);
    }

    /** s plus w[wo + i] · x[xo + i] for i in [from, n), in order, fused: the columns after the last whole vector. */
    private static float tail(float s, float[] w, int wo, float[] x, int xo, int from, int n) {
        for (int i = from; i < n; i++) s = Math.fma(w[wo + i], x[xo + i], s);
        return s;
    }

    /** L halfs from h[i] as floats, exactly (as {@link ScalarQuantKernels#halfToFloat}). */
    private static FloatVector halfs(short[] h, int i) {
        IntVector v = (IntVector) ShortVector.fromArray(SS, h, i).convertShape(VectorOperators.S2I, IS, 0);
        FloatVector mag = v.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        return mag.reinterpretAsInts().or(v.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** L int8 from q[i] times d. */
    private static FloatVector q8(byte[] q, int i, float d) {
        return ((FloatVector) ByteVector.fromArray(BS, q, i).convertShape(VectorOperators.B2F, FS, 0)).mul(d);
    }

    /**
     * (low nibbles - 8) · d of L bytes. The nibbles are split in int lanes: x86 has no byte shift, and in JDK 17 a
     * byte-lane shift (or and/sub on bytes next to it) failed to intrinsify here, boxing every vector (4x slower).
     */
    private static FloatVector q4lo(ByteVector b, float d) {
        IntVector v = (IntVector) b.convertShape(VectorOperators.B2I, IS, 0);
        return ((FloatVector) v.and(0x0F).sub(8).convertShape(VectorOperators.I2F, FS, 0)).mul(d);
    }

    /** (high nibbles - 8) · d of L bytes. */
    private static FloatVector q4hi(ByteVector b, float d) {
        IntVector v = (IntVector) b.convertShape(VectorOperators.B2I, IS, 0);
        return ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8).convertShape(VectorOperators.I2F, FS, 0)).mul(d);
    }

    /** {@link ScalarQuantKernels#dequantize}, the same values (one method per type, as {@link #matvec}). */
    static void dequantize(QuantizedMatrix m, int row, int bFrom, int bTo, float[] out, int off) {
        switch (m.type) {
            case F16 -> dequantizeF16(m, row, bFrom, bTo, out, off);
            case Q8_0 -> dequantizeQ8(m, row, bFrom, bTo, out, off);
            case Q4_0 -> dequantizeQ4(m, row, bFrom, bTo, out, off);
            case NF4 -> dequantizeNf4(m, row, bFrom, bTo, out, off);
        }
    }

    private static void dequantizeF16(QuantizedMatrix m, int row, int from, int to, float[] out, int off) {
        int base = row * m.cols + from, n = to - from, i = 0;
        for (int end = FS.loopBound(n); i < end; i += L) halfs(m.halfs, base + i).intoArray(out, off + i);
        for (; i < n; i++) out[off + i] = ScalarQuantKernels.halfToFloat(m.halfs[base + i]);
    }

    private static void dequantizeQ8(QuantizedMatrix m, int row, int bFrom, int bTo, float[] out, int off) {
        for (int b = bFrom; b < bTo; b++) {
            int g = row * m.blocksPerRow + b, o = off + (b - bFrom) * 32;
            float d = m.scales[g];
            for (int j = 0; j < 32; j += L) q8(m.quants, g * 32 + j, d).intoArray(out, o + j);
        }
    }

    private static void dequantizeQ4(QuantizedMatrix m, int row, int bFrom, int bTo, float[] out, int off) {
        for (int b = bFrom; b < bTo; b++) {
            int g = row * m.blocksPerRow + b, o = off + (b - bFrom) * 32;
            float d = m.scales[g];
            for (int j = 0; j < 16; j += L) {
                ByteVector v = ByteVector.fromArray(BS, m.quants, g * 16 + j);
                q4lo(v, d).intoArray(out, o + j);
                q4hi(v, d).intoArray(out, o + 16 + j);
            }
        }
    }

    private static void dequantizeNf4(QuantizedMatrix m, int row, int bFrom, int bTo, float[] out, int off) {
        for (int b = bFrom; b < bTo; b++) {
            int g = row * m.blocksPerRow + b, o = off + (b - bFrom) * 64, qb = g * 32;
            for (int k = 0; k < 32; k++) {
                int v = m.quants[qb + k] & 0xFF;
                out[o + 2 * k] = NF4_HI[v];
                out[o + 2 * k + 1] = NF4_LO[v];
            }
            float s = m.scale(g);
            for (int j = 0; j < 64; j += L) FloatVector.fromArray(FS, out, o + j).mul(s).intoArray(out, o + j);
        }
    }

    // -------------------------------------------------------------------------------------------- matmul

    static void matmul(QuantizedMatrix m, float[] x, int R, float[] y, int rowFrom, int rowTo) {
        if (R == 1 && m.type != QuantType.NF4) matvec(m, x, y, rowFrom, rowTo);
        else tiled(m, x, R, y, rowFrom, rowTo);
    }

    /**
     * R = 1 (a generation step: the weights stream once): a few rows at a time (four for Q8_0, two for F16 and
     * Q4_0, whichever measured fastest), each block dequantized in registers and multiplied straight into its row's
     * accumulator; x is read once per group of rows. NF4 takes {@link #tiled}: its table lookups are scalar anyway.
     */
    private static void matvec(QuantizedMatrix m, float[] x, float[] y, int rowFrom, int rowTo) {
        // one method per type: C2 inlines the vector helpers only while a method stays small, and a vector that is
        // not inlined is boxed (an all-types method ran F16 and Q4_0 ten times slower)
        switch (m.type) {
            case F16 -> matvecF16(m, x, y, rowFrom, rowTo);
            case Q8_0 -> matvecQ8(m, x, y, rowFrom, rowTo);
            case Q4_0 -> matvecQ4(m, x, y, rowFrom, rowTo);
            default -> throw new AssertionError(m.type);
        }
    }

    private static void matvecF16(QuantizedMatrix m, float[] x, float[] y, int rowFrom, int rowTo) {
        int cols = m.cols, o = rowFrom;
        short[] h = m.halfs;
        int end = FS.loopBound(cols);
        for (; o + 2 <= rowTo; o += 2) {
            int w0 = o * cols, w1 = w0 + cols;
            FloatVector a0 = FloatVector.zero(FS), a1 = a0;
            int i = 0;
            for (; i < end; i += L) {
                FloatVector xv = FloatVector.fromArray(FS, x, i);
                a0 = halfs(h, w0 + i).fma(xv, a0);
                a1 = halfs(h, w1 + i).fma(xv, a1);
            }
            y[o] = halfTail(sum(a0), h, w0, x, i, cols);
            y[o + 1] = halfTail(sum(a1), h, w1, x, i, cols);
        }
        for (; o < rowTo; o++) {
            int w0 = o * cols, i = 0;
            FloatVector a0 = FloatVector.zero(FS);
            for (; i < end; i += L) a0 = halfs(h, w0 + i).fma(FloatVector.fromArray(FS, x, i), a0);
            y[o] = halfTail(sum(a0), h, w0, x, i, cols);
        }
    }

    private static void matvecQ8(QuantizedMatrix m, float[] x, float[] y, int rowFrom, int rowTo) {
        byte[] q = m.quants;
        float[] d = m.scales;
        int nb = m.blocksPerRow, o = rowFrom;
        for (; o + 4 <= rowTo; o += 4) {
            int s0 = o * nb, s1 = s0 + nb, s2 = s1 + nb, s3 = s2 + nb;
            FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
            for (int b = 0; b < nb; b++) {
                float d0 = d[s0 + b], d1 = d[s1 + b], d2 = d[s2 + b], d3 = d[s3 + b];
                for (int j = 0; j < 32; j += L) {
                    int c = b * 32 + j;
                    FloatVector xv = FloatVector.fromArray(FS, x, c);
                    a0 = q8(q, s0 * 32 + c, d0).fma(xv, a0);
                    a1 = q8(q, s1 * 32 + c, d1).fma(xv, a1);
                    a2 = q8(q, s2 * 32 + c, d2).fma(xv, a2);
                    a3 = q8(q, s3 * 32 + c, d3).fma(xv, a3);
                }
            }
            y[o] = sum(a0);
            y[o + 1] = sum(a1);
            y[o + 2] = sum(a2);
            y[o + 3] = sum(a3);
        }
        for (; o < rowTo; o++) {
            int s0 = o * nb;
            FloatVector a0 = FloatVector.zero(FS);
            for (int b = 0; b < nb; b++) {
                float d0 = d[s0 + b];
                for (int j = 0; j < 32; j += L) {
                    int c = b * 32 + j;
                    a0 = q8(q, s0 * 32 + c, d0).fma(FloatVector.fromArray(FS, x, c), a0);
                }
            }
            y[o] = sum(a0);
        }
    }

    /**
     * Two rows at a time, not four: with four rows' low and high nibbles live at once C2 (JDK 17) stopped keeping the
     * vectors in registers and allocated them (measured 5x slower).
     */
    private static void matvecQ4(QuantizedMatrix m, float[] x, float[] y, int rowFrom, int rowTo) {
        byte[] q = m.quants;
        float[] d = m.scales;
        int nb = m.blocksPerRow, o = rowFrom;
        for (; o + 2 <= rowTo; o += 2) {
            int s0 = o * nb, s1 = s0 + nb;
            FloatVector a0 = FloatVector.zero(FS), a1 = a0;
            for (int b = 0; b < nb; b++) {
                float d0 = d[s0 + b], d1 = d[s1 + b];
                // column order: the low nibbles are columns [0, 16) of the block, the high ones [16, 32)
                for (int j = 0; j < 16; j += L) {
                    FloatVector xv = FloatVector.fromArray(FS, x, b * 32 + j);
                    a0 = q4lo(ByteVector.fromArray(BS, q, (s0 + b) * 16 + j), d0).fma(xv, a0);
                    a1 = q4lo(ByteVector.fromArray(BS, q, (s1 + b) * 16 + j), d1).fma(xv, a1);
                }
                for (int j = 0; j < 16; j += L) {
                    FloatVector xv = FloatVector.fromArray(FS, x, b * 32 + 16 + j);
                    a0 = q4hi(ByteVector.fromArray(BS, q, (s0 + b) * 16 + j), d0).fma(xv, a0);
                    a1 = q4hi(ByteVector.fromArray(BS, q, (s1 + b) * 16 + j), d1).fma(xv, a1);
                }
            }
            y[o] = sum(a0);
            y[o + 1] = sum(a1);
        }
        for (; o < rowTo; o++) {
            int s0 = o * nb;
            FloatVector a0 = FloatVector.zero(FS);
            for (int b = 0; b < nb; b++) {
                float d0 = d[s0 + b];
                for (int j = 0; j < 16; j += L) {
                    a0 = q4lo(ByteVector.fromArray(BS, q, (s0 + b) * 16 + j), d0).fma(FloatVector.fromArray(FS, x, b * 32 + j), a0);
                }
                for (int j = 0; j < 16; j += L) {
                    a0 = q4hi(ByteVector.fromArray(BS, q, (s0 + b) * 16 + j), d0).fma(FloatVector.fromArray(FS, x, b * 32 + 16 + j), a0);
                }
            }
            y[o] = sum(a0);
        }
    }

    private static float halfTail(float s, short[] h, int wo, float[] x, int from, int n) {
        for (int i = from; i < n; i++) s = Math.fma(ScalarQuantKernels.halfToFloat(h[wo + i]), x[i], s);
        return s;
    }

    /**
     * Any R: four rows dequantized into scratch, then every row of x against them, four rows of x at a time
     * (16 accumulators: each loaded vector feeds four multiply-adds).
     */
    private static void tiled(QuantizedMatrix m, float[] x, int R, float[] y, int rowFrom, int rowTo) {
        int cols = m.cols, rows = m.rows;
        float[] w = new float[4 * cols];
        for (int o = rowFrom; o < rowTo; o += 4) {
            int nt = Math.min(4, rowTo - o);
            for (int t = 0; t < nt; t++) dequantize(m, o + t, 0, m.blocksPerRow, w, t * cols);
            int r = 0;
            if (nt == 4) for (; r + 4 <= R; r += 4) dot4x4(w, x, cols, r, y, rows, o);
            for (; r < R; r++) {
                for (int t = 0; t < nt; t++) y[r * rows + o + t] = dot(w, t * cols, x, r * cols, cols);
            }
        }
    }

    private static float dot(float[] w, int wo, float[] x, int xo, int n) {
        FloatVector a = FloatVector.zero(FS);
        int i = 0;
        for (int end = FS.loopBound(n); i < end; i += L) a = FloatVector.fromArray(FS, w, wo + i).fma(FloatVector.fromArray(FS, x, xo + i), a);
        return tail(sum(a), w, wo, x, xo, i, n);
    }

    /** y[r + k, o + t] for k, t &lt; 4, from the four dequantized rows w[t · n, (t + 1) · n). */
    private static void dot4x4(float[] w, float[] x, int n, int r, float[] y, int rows, int o) {
        int w0 = 0, w1 = n, w2 = 2 * n, w3 = 3 * n;
        int x0 = r * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector z = FloatVector.zero(FS);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int i = 0;
        for (int end = FS.loopBound(n); i < end; i += L) {
            FloatVector v0 = FloatVector.fromArray(FS, w, w0 + i), v1 = FloatVector.fromArray(FS, w, w1 + i);
            FloatVector v2 = FloatVector.fromArray(FS, w, w2 + i), v3 = FloatVector.fromArray(FS, w, w3 + i);
            FloatVector u = FloatVector.fromArray(FS, x, x0 + i);
            a00 = v0.fma(u, a00);
            a01 = v1.fma(u, a01);
            a02 = v2.fma(u, a02);
            a03 = v3.fma(u, a03);
            u = FloatVector.fromArray(FS, x, x1 + i);
            a10 = v0.fma(u, a10);
            a11 = v1.fma(u, a11);
            a12 = v2.fma(u, a12);
            a13 = v3.fma(u, a13);
            u = FloatVector.fromArray(FS, x, x2 + i);
            a20 = v0.fma(u, a20);
            a21 = v1.fma(u, a21);
            a22 = v2.fma(u, a22);
            a23 = v3.fma(u, a23);
            u = FloatVector.fromArray(FS, x, x3 + i);
            a30 = v0.fma(u, a30);
            a31 = v1.fma(u, a31);
            a32 = v2.fma(u, a32);
            a33 = v3.fma(u, a33);
        }
        int y0 = r * rows + o, y1 = y0 + rows, y2 = y1 + rows, y3 = y2 + rows;
        y[y0] = tail(sum(a00), w, w0, x, x0, i, n);
        y[y0 + 1] = tail(sum(a01), w, w1, x, x0, i, n);
        y[y0 + 2] = tail(sum(a02), w, w2, x, x0, i, n);
        y[y0 + 3] = tail(sum(a03), w, w3, x, x0, i, n);
        y[y1] = tail(sum(a10), w, w0, x, x1, i, n);
        y[y1 + 1] = tail(sum(a11), w, w1, x, x1, i, n);
        y[y1 + 2] = tail(sum(a12), w, w2, x, x1, i, n);
        y[y1 + 3] = tail(sum(a13), w, w3, x, x1, i, n);
        y[y2] = tail(sum(a20), w, w0, x, x2, i, n);
        y[y2 + 1] = tail(sum(a21), w, w1, x, x2, i, n);
        y[y2 + 2] = tail(sum(a22), w, w2, x, x2, i, n);
        y[y2 + 3] = tail(sum(a23), w, w3, x, x2, i, n);
        y[y3] = tail(sum(a30), w, w0, x, x3, i, n);
        y[y3 + 1] = tail(sum(a31), w, w1, x, x3, i, n);
        y[y3 + 2] = tail(sum(a32), w, w2, x, x3, i, n);
        y[y3 + 3] = tail(sum(a33), w, w3, x, x3, i, n);
    }

    // -------------------------------------------------------------------------------------------- Q8_0 activations

    /** 1.5 · 2^23: t + MAGIC - MAGIC is t rounded to the nearest integer, ties to even, for |t| &lt; 2^22. */
    private static final float MAGIC = 12582912f;

    /**
     * Blocks [b0, b1) of x quantized as {@link Q8Activations#quantizeBlock} does, the same values: the largest
     * magnitude by a lane-wise max and a max over the lanes (exact, in any order), then q = rint(x · id) by the magic
     * number (JDK 17's Vector API has no rounding operation). Blocks whose multiplier or amax is not finite (the
     * degenerate cases of that comment) take the scalar loop.
     */
    static void quantizeQ8(float[] x, float[] q, float[] d, int b0, int b1) {
        for (int b = b0; b < b1; b++) {
            int o = b * 32;
            FloatVector mx = FloatVector.fromArray(FS, x, o).abs();
            for (int j = L; j < 32; j += L) mx = mx.max(FloatVector.fromArray(FS, x, o + j).abs());
            float amax = mx.reduceLanes(VectorOperators.MAX);
            d[b] = ScalarQuantKernels.halfToFloat(dev.gpt4j.core.Float16.fromFloat(amax / 127f));
            float id = amax != 0f ? 127f / amax : 0f;
            if (!(amax < Float.POSITIVE_INFINITY) || !(id < Float.POSITIVE_INFINITY)) {
                for (int j = 0; j < 32; j++) q[o + j] = Q8Activations.x86RoundToInt8(x[o + j] * id);
                continue;
            }
            for (int j = 0; j < 32; j += L) {
                FloatVector t = FloatVector.fromArray(FS, x, o + j).mul(id);
                t.add(MAGIC).sub(MAGIC).intoArray(q, o + j);
            }
        }
    }

    /** L int8 from q[i] as floats (exact). */
    private static FloatVector raw8(byte[] q, int i) {
        return (FloatVector) ByteVector.fromArray(BS, q, i).convertShape(VectorOperators.B2F, FS, 0);
    }

    /** The low nibbles of L bytes, minus 8, as floats. */
    private static FloatVector raw4lo(ByteVector b) {
        IntVector v = (IntVector) b.convertShape(VectorOperators.B2I, IS, 0);
        return (FloatVector) v.and(0x0F).sub(8).convertShape(VectorOperators.I2F, FS, 0);
    }

    /** The high nibbles of L bytes, minus 8, as floats. */
    private static FloatVector raw4hi(ByteVector b) {
        IntVector v = (IntVector) b.convertShape(VectorOperators.B2I, IS, 0);
        return (FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8).convertShape(VectorOperators.I2F, FS, 0);
    }

    /**
     * {@link QuantizedMatrix#matmul(Q8Activations, float[], int, int)}. How y[r, o] is summed, on every path here:
     * per block, L lane partial sums p_k = Σ q_w · q_x over the block's columns j ≡ k (mod L), exact in float (each is
     * at most 4 · 127 · 128 in magnitude, an integer below 2^24, so the order within a block does not matter); then
     * acc_k = fma(p_k, d_w · d_x, acc_k) block after block (d_w · d_x, two fp16 values, is exact in float), from zero;
     * then the fixed tree over the lanes ({@link #sum}). llama.cpp's AVX2 kernel is built the same way with 8 lanes
     * of 4 consecutive columns, so the two differ only in how the float sums are rounded, as the scalar definition
     * ({@link ScalarQuantKernels#matmulQ8}, one block sum at a time) does from both.
     */
    static void matmulQ8(QuantizedMatrix m, Q8Activations x, float[] y, int rowFrom, int rowTo) {
        if (x.rows == 1) {
            // one method per type, as matvec
            if (m.type == QuantType.Q8_0) matvecQ8q8(m, x.q, 0, x.d, 0, y, 0, rowFrom, rowTo);
            else matvecQ4q8(m, x.q, 0, x.d, 0, y, 0, rowFrom, rowTo);
        } else {
            tiledQ8(m, x, y, rowFrom, rowTo);
        }
    }

    /** y[yo + o] for o in [rowFrom, rowTo), one row of quantized activations (values xq[xo..], scales xd[xdo..]). */
    private static void matvecQ8q8(QuantizedMatrix m, float[] xq, int xo, float[] xd, int xdo, float[] y, int yo, int rowFrom, int rowTo) {
        byte[] q = m.quants;
        float[] d = m.scales, acc = new float[4 * L];
        int nb = m.blocksPerRow, o = rowFrom;
        for (; o + 4 <= rowTo; o += 4) {
            int s0 = o * nb, s1 = s0 + nb, s2 = s1 + nb, s3 = s2 + nb;
            FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
            for (int b = 0; b < nb; b++) {
                int c = b * 32;
                FloatVector p0 = FloatVector.zero(FS), p1 = p0, p2 = p0, p3 = p0;
                for (int j = 0; j < 32; j += L) {
                    FloatVector xv = FloatVector.fromArray(FS, xq, xo + c + j);
                    p0 = raw8(q, (s0 + b) * 32 + j).fma(xv, p0);
                    p1 = raw8(q, (s1 + b) * 32 + j).fma(xv, p1);
                    p2 = raw8(q, (s2 + b) * 32 + j).fma(xv, p2);
                    p3 = raw8(q, (s3 + b) * 32 + j).fma(xv, p3);
                }
                float e = xd[xdo + b];
                a0 = p0.fma(FloatVector.broadcast(FS, d[s0 + b] * e), a0);
                a1 = p1.fma(FloatVector.broadcast(FS, d[s1 + b] * e), a1);
                a2 = p2.fma(FloatVector.broadcast(FS, d[s2 + b] * e), a2);
                a3 = p3.fma(FloatVector.broadcast(FS, d[s3 + b] * e), a3);
            }
            a0.intoArray(acc, 0);
            a1.intoArray(acc, L);
            a2.intoArray(acc, 2 * L);
            a3.intoArray(acc, 3 * L);
            sums(acc, 4, y, yo + o);
        }
        if (o < rowTo) oneRowQ8q8(m, xq, xo, xd, xdo, y, yo, o, rowTo);
    }

    /** The rows after the last group of four (a method of its own: C2 inlines the vector helpers only in small methods). */
    private static void oneRowQ8q8(QuantizedMatrix m, float[] xq, int xo, float[] xd, int xdo, float[] y, int yo, int rowFrom, int rowTo) {
        byte[] q = m.quants;
        float[] d = m.scales;
        int nb = m.blocksPerRow;
        for (int o = rowFrom; o < rowTo; o++) {
            int s0 = o * nb;
            FloatVector a0 = FloatVector.zero(FS);
            for (int b = 0; b < nb; b++) {
                int c = b * 32;
                FloatVector p0 = FloatVector.zero(FS);
                for (int j = 0; j < 32; j += L) p0 = raw8(q, (s0 + b) * 32 + j).fma(FloatVector.fromArray(FS, xq, xo + c + j), p0);
                a0 = p0.fma(FloatVector.broadcast(FS, d[s0 + b] * xd[xdo + b]), a0);
            }
            y[yo + o] = sum(a0);
        }
    }

    /**
     * As {@link #matvecQ8q8} for Q4_0 weights, two rows at a time (see {@link #matvecQ4}). Within a block the low
     * nibbles are columns [0, 16) and the high ones [16, 32): lane k takes columns k, k + L, ... in either order.
     */
    private static void matvecQ4q8(QuantizedMatrix m, float[] xq, int xo, float[] xd, int xdo, float[] y, int yo, int rowFrom, int rowTo) {
        byte[] q = m.quants;
        float[] d = m.scales, acc = new float[2 * L];
        int nb = m.blocksPerRow, o = rowFrom;
        for (; o + 2 <= rowTo; o += 2) {
            int s0 = o * nb, s1 = s0 + nb;
            FloatVector a0 = FloatVector.zero(FS), a1 = a0;
            for (int b = 0; b < nb; b++) {
                int c = xo + b * 32;
                FloatVector p0 = FloatVector.zero(FS), p1 = p0;
                for (int j = 0; j < 16; j += L) {
                    ByteVector w0 = ByteVector.fromArray(BS, q, (s0 + b) * 16 + j), w1 = ByteVector.fromArray(BS, q, (s1 + b) * 16 + j);
                    FloatVector xv = FloatVector.fromArray(FS, xq, c + j);
                    p0 = raw4lo(w0).fma(xv, p0);
                    p1 = raw4lo(w1).fma(xv, p1);
                    xv = FloatVector.fromArray(FS, xq, c + 16 + j);
                    p0 = raw4hi(w0).fma(xv, p0);
                    p1 = raw4hi(w1).fma(xv, p1);
                }
                float e = xd[xdo + b];
                a0 = p0.fma(FloatVector.broadcast(FS, d[s0 + b] * e), a0);
                a1 = p1.fma(FloatVector.broadcast(FS, d[s1 + b] * e), a1);
            }
            a0.intoArray(acc, 0);
            a1.intoArray(acc, L);
            sums(acc, 2, y, yo + o);
        }
        if (o < rowTo) oneRowQ4q8(m, xq, xo, xd, xdo, y, yo, o, rowTo);
    }

    private static void oneRowQ4q8(QuantizedMatrix m, float[] xq, int xo, float[] xd, int xdo, float[] y, int yo, int rowFrom, int rowTo) {
        byte[] q = m.quants;
        float[] d = m.scales;
        int nb = m.blocksPerRow;
        for (int o = rowFrom; o < rowTo; o++) {
            int s0 = o * nb;
            FloatVector a0 = FloatVector.zero(FS);
            for (int b = 0; b < nb; b++) {
                int c = xo + b * 32;
                FloatVector p0 = FloatVector.zero(FS);
                for (int j = 0; j < 16; j += L) {
                    ByteVector w0 = ByteVector.fromArray(BS, q, (s0 + b) * 16 + j);
                    p0 = raw4lo(w0).fma(FloatVector.fromArray(FS, xq, c + j), p0);
                    p0 = raw4hi(w0).fma(FloatVector.fromArray(FS, xq, c + 16 + j), p0);
                }
                a0 = p0.fma(FloatVector.broadcast(FS, d[s0 + b] * xd[xdo + b]), a0);
            }
            y[yo + o] = sum(a0);
        }
    }

    /**
     * R &gt; 1: four weight rows at a time turned into their quantized values as floats (q for Q8_0, q - 8 for Q4_0,
     * in column order) in scratch, then every row of x against them. The same operations as the one-row loops on the
     * same values, hence the same bits whatever R.
     */
    private static void tiledQ8(QuantizedMatrix m, Q8Activations x, float[] y, int rowFrom, int rowTo) {
        int cols = m.cols, rows = m.rows, nb = m.blocksPerRow, R = x.rows;
        float[] w = new float[4 * cols], ws = new float[4 * nb], acc = new float[4 * L];
        for (int o = rowFrom; o < rowTo; o += 4) {
            int nt = Math.min(4, rowTo - o);
            for (int t = 0; t < nt; t++) {
                rawRow(m, o + t, w, t * cols);
                System.arraycopy(m.scales, (o + t) * nb, ws, t * nb, nb);
            }
            for (int r = 0; r < R; r++) {
                int xo = r * cols, xdo = r * nb, yo = r * rows + o;
                if (nt == 4) dot4Q8(w, ws, cols, nb, x.q, xo, x.d, xdo, y, yo, acc);
                else for (int t = 0; t < nt; t++) y[yo + t] = dotQ8(w, t * cols, ws, t * nb, nb, x.q, xo, x.d, xdo);
            }
        }
    }

    /** Row o's quantized values (without the scale) as floats into out[off, off + cols). */
    private static void rawRow(QuantizedMatrix m, int o, float[] out, int off) {
        int nb = m.blocksPerRow;
        if (m.type == QuantType.Q8_0) {
            for (int i = 0, end = nb * 32; i < end; i += L) raw8(m.quants, o * nb * 32 + i).intoArray(out, off + i);
        } else {
            for (int b = 0; b < nb; b++) {
                for (int j = 0; j < 16; j += L) {
                    ByteVector v = ByteVector.fromArray(BS, m.quants, (o * nb + b) * 16 + j);
                    raw4lo(v).intoArray(out, off + b * 32 + j);
                    raw4hi(v).intoArray(out, off + b * 32 + 16 + j);
                }
            }
        }
    }

    /** One output from a scratch row (values w[wo..], scales ws[wso..]) and a row of quantized activations. */
    private static float dotQ8(float[] w, int wo, float[] ws, int wso, int nb, float[] xq, int xo, float[] xd, int xdo) {
        FloatVector a = FloatVector.zero(FS);
        for (int b = 0; b < nb; b++) {
            int c = b * 32;
            FloatVector p = FloatVector.zero(FS);
            for (int j = 0; j < 32; j += L) p = FloatVector.fromArray(FS, w, wo + c + j).fma(FloatVector.fromArray(FS, xq, xo + c + j), p);
            a = p.fma(FloatVector.broadcast(FS, ws[wso + b] * xd[xdo + b]), a);
        }
        return sum(a);
    }

    /** y[yo + t] for the four scratch rows t &lt; 4 against one row of quantized activations. */
    private static void dot4Q8(float[] w, float[] ws, int n, int nb, float[] xq, int xo, float[] xd, int xdo, float[] y, int yo, float[] acc) {
        int w1 = n, w2 = 2 * n, w3 = 3 * n;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < nb; b++) {
            int c = b * 32;
            FloatVector p0 = FloatVector.zero(FS), p1 = p0, p2 = p0, p3 = p0;
            for (int j = 0; j < 32; j += L) {
                FloatVector xv = FloatVector.fromArray(FS, xq, xo + c + j);
                p0 = FloatVector.fromArray(FS, w, c + j).fma(xv, p0);
                p1 = FloatVector.fromArray(FS, w, w1 + c + j).fma(xv, p1);
                p2 = FloatVector.fromArray(FS, w, w2 + c + j).fma(xv, p2);
                p3 = FloatVector.fromArray(FS, w, w3 + c + j).fma(xv, p3);
            }
            float e = xd[xdo + b];
            a0 = p0.fma(FloatVector.broadcast(FS, ws[b] * e), a0);
            a1 = p1.fma(FloatVector.broadcast(FS, ws[nb + b] * e), a1);
            a2 = p2.fma(FloatVector.broadcast(FS, ws[2 * nb + b] * e), a2);
            a3 = p3.fma(FloatVector.broadcast(FS, ws[3 * nb + b] * e), a3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        sums(acc, 4, y, yo);
    }

    /**
     * y[yo + t] = {@link #sum} of the accumulator acc[t · L, (t + 1) · L) for t &lt; n. The kernels above store their
     * accumulators and sum them here: summed in place, C2 (JDK 17) ran out of its node budget after two or three
     * inlined trees and called the others with boxed vectors.
     */
    private static void sums(float[] acc, int n, float[] y, int yo) {
        for (int t = 0; t < n; t++) y[yo + t] = sum(FloatVector.fromArray(FS, acc, t * L));
    }

    // -------------------------------------------------------------------------------------------- transposed

    /** {@link ScalarQuantKernels#matmulTransposed}, four rows of W per pass over dx, the same bits. */
    static void matmulTransposed(QuantizedMatrix m, float[] dy, int R, float[] dx, int colFrom, int colTo) {
        int bs = m.type.blockSize(), rows = m.rows, cols = m.cols;
        int bFrom = colFrom / bs, bTo = (colTo + bs - 1) / bs, skip = colFrom - bFrom * bs, span = colTo - colFrom;
        int width = (bTo - bFrom) * bs, end = FS.loopBound(span);
        float[] w = new float[4 * width];
        int w0 = skip, w1 = w0 + width, w2 = w1 + width, w3 = w2 + width;
        for (int o = 0; o < rows; o += 4) {
            int nt = Math.min(4, rows - o);
            for (int t = 0; t < nt; t++) dequantize(m, o + t, bFrom, bTo, w, t * width);
            for (int r = 0; r < R; r++) {
                int xo = r * cols + colFrom, g = r * rows + o;
                if (nt == 4) {
                    float g0 = dy[g], g1 = dy[g + 1], g2 = dy[g + 2], g3 = dy[g + 3];
                    FloatVector G0 = FloatVector.broadcast(FS, g0), G1 = FloatVector.broadcast(FS, g1);
                    FloatVector G2 = FloatVector.broadcast(FS, g2), G3 = FloatVector.broadcast(FS, g3);
                    int i = 0;
                    for (; i < end; i += L) {
                        FloatVector v = FloatVector.fromArray(FS, dx, xo + i);
                        v = FloatVector.fromArray(FS, w, w0 + i).fma(G0, v);
                        v = FloatVector.fromArray(FS, w, w1 + i).fma(G1, v);
                        v = FloatVector.fromArray(FS, w, w2 + i).fma(G2, v);
                        v = FloatVector.fromArray(FS, w, w3 + i).fma(G3, v);
                        v.intoArray(dx, xo + i);
                    }
                    for (; i < span; i++) {
                        float a = dx[xo + i];
                        a = Math.fma(w[w0 + i], g0, a);
                        a = Math.fma(w[w1 + i], g1, a);
                        a = Math.fma(w[w2 + i], g2, a);
                        a = Math.fma(w[w3 + i], g3, a);
                        dx[xo + i] = a;
                    }
                } else {
                    for (int t = 0; t < nt; t++) {
                        float gt = dy[g + t];
                        FloatVector G = FloatVector.broadcast(FS, gt);
                        int wt = skip + t * width, i = 0;
                        for (; i < end; i += L) {
                            FloatVector.fromArray(FS, w, wt + i).fma(G, FloatVector.fromArray(FS, dx, xo + i)).intoArray(dx, xo + i);
                        }
                        for (; i < span; i++) dx[xo + i] = Math.fma(w[wt + i], gt, dx[xo + i]);
                    }
                }
            }
        }
    }
}
