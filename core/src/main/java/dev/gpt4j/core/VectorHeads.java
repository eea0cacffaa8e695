package dev.gpt4j.core;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link HeadAttention}'s three products with the Vector API: the same chains of fused multiply-adds per output
 * element, in the same order, several elements to a vector and several rows at a time so that each loaded vector
 * serves more than one chain. Columns that do not fill a vector take the scalar chain. Loaded only when
 * {@link Kernels#vectorized()}.
 */
final class VectorHeads {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorHeads() {}

    /** {@link HeadAttention#lowerABt}: four rows by two vectors of columns at a time, up to the diagonal. */
    static void lowerABt(float[] a, float[] bt, int T, int hs, int Tp, float[] out) {
        int i0 = 0;
        for (; i0 + 4 <= T; i0 += 4) {
            int r0 = i0 * hs, r1 = r0 + hs, r2 = r1 + hs, r3 = r2 + hs;
            for (int j = 0; j < i0 + 4; j += 2 * L) {
                FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                for (int d = 0; d < hs; d++) {
                    FloatVector k0 = FloatVector.fromArray(S, bt, d * Tp + j), k1 = FloatVector.fromArray(S, bt, d * Tp + j + L);
                    FloatVector b0 = FloatVector.broadcast(S, a[r0 + d]), b1 = FloatVector.broadcast(S, a[r1 + d]);
                    FloatVector b2 = FloatVector.broadcast(S, a[r2 + d]), b3 = FloatVector.broadcast(S, a[r3 + d]);
                    a00 = b0.fma(k0, a00);
                    a01 = b0.fma(k1, a01);
                    a10 = b1.fma(k0, a10);
                    a11 = b1.fma(k1, a11);
                    a20 = b2.fma(k0, a20);
                    a21 = b2.fma(k1, a21);
                    a30 = b3.fma(k0, a30);
                    a31 = b3.fma(k1, a31);
                }
                int o = i0 * Tp + j;
                a00.intoArray(out, o);
                a01.intoArray(out, o + L);
                a10.intoArray(out, o + Tp);
                a11.intoArray(out, o + Tp + L);
                a20.intoArray(out, o + 2 * Tp);
                a21.intoArray(out, o + 2 * Tp + L);
                a30.intoArray(out, o + 3 * Tp);
                a31.intoArray(out, o + 3 * Tp + L);
            }
        }
        for (; i0 < T; i0++) {
            for (int j = 0; j <= i0; j += L) {
                FloatVector acc = FloatVector.zero(S);
                for (int d = 0; d < hs; d++) acc = FloatVector.broadcast(S, a[i0 * hs + d]).fma(FloatVector.fromArray(S, bt, d * Tp + j), acc);
                acc.intoArray(out, i0 * Tp + j);
            }
        }
    }

    /** {@link HeadAttention#lowerPX}: two rows by four vectors (then one) of columns at a time. */
    static void lowerPX(float[] p, int Tp, float[] x, int T, int hs, float[] out) {
        int c = 0;
        for (; c + 4 * L <= hs; c += 4 * L) {
            int i0 = 0;
            for (; i0 + 2 <= T; i0 += 2) {
                int p0 = i0 * Tp, p1 = p0 + Tp;
                FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
                for (int j = 0; j <= i0; j++) {
                    int xo = j * hs + c;
                    FloatVector x0 = FloatVector.fromArray(S, x, xo), x1 = FloatVector.fromArray(S, x, xo + L);
                    FloatVector x2 = FloatVector.fromArray(S, x, xo + 2 * L), x3 = FloatVector.fromArray(S, x, xo + 3 * L);
                    FloatVector b0 = FloatVector.broadcast(S, p[p0 + j]), b1 = FloatVector.broadcast(S, p[p1 + j]);
                    a00 = b0.fma(x0, a00);
                    a01 = b0.fma(x1, a01);
                    a02 = b0.fma(x2, a02);
                    a03 = b0.fma(x3, a03);
                    a10 = b1.fma(x0, a10);
                    a11 = b1.fma(x1, a11);
                    a12 = b1.fma(x2, a12);
                    a13 = b1.fma(x3, a13);
                }
                // the second row's last term (j = i0 + 1)
                int xo = (i0 + 1) * hs + c;
                FloatVector b1 = FloatVector.broadcast(S, p[p1 + i0 + 1]);
                a10 = b1.fma(FloatVector.fromArray(S, x, xo), a10);
                a11 = b1.fma(FloatVector.fromArray(S, x, xo + L), a11);
                a12 = b1.fma(FloatVector.fromArray(S, x, xo + 2 * L), a12);
                a13 = b1.fma(FloatVector.fromArray(S, x, xo + 3 * L), a13);
                int o = i0 * hs + c;
                a00.intoArray(out, o);
                a01.intoArray(out, o + L);
                a02.intoArray(out, o + 2 * L);
                a03.intoArray(out, o + 3 * L);
                a10.intoArray(out, o + hs);
                a11.intoArray(out, o + hs + L);
                a12.intoArray(out, o + hs + 2 * L);
                a13.intoArray(out, o + hs + 3 * L);
            }
            for (; i0 < T; i0++) {
                for (int cc = c; cc < c + 4 * L; cc += L) lowerPXOne(p, Tp, x, hs, i0, cc, out);
            }
        }
        for (; c + L <= hs; c += L) {
            for (int i = 0; i < T; i++) lowerPXOne(p, Tp, x, hs, i, c, out);
        }
        for (; c < hs; c++) {
            for (int i = 0; i < T; i++) {
                float acc = 0f;
                for (int j = 0; j <= i; j++) acc = Math.fma(p[i * Tp + j], x[j * hs + c], acc);
                out[i * hs + c] = acc;
            }
        }
    }

    private static void lowerPXOne(float[] p, int Tp, float[] x, int hs, int i, int c, float[] out) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j <= i; j++) acc = FloatVector.broadcast(S, p[i * Tp + j]).fma(FloatVector.fromArray(S, x, j * hs + c), acc);
        acc.intoArray(out, i * hs + c);
    }

    /** {@link HeadAttention#upperTX}: two output rows (two columns of m) by four vectors (then one) at a time. */
    static void upperTX(float[] m, int Tp, float[] x, int T, int hs, float[] out) {
        int c = 0;
        for (; c + 4 * L <= hs; c += 4 * L) {
            int j0 = 0;
            for (; j0 + 2 <= T; j0 += 2) {
                // the first row's first term (i = j0)
                int xo = j0 * hs + c;
                FloatVector b0 = FloatVector.broadcast(S, m[j0 * Tp + j0]), z = FloatVector.zero(S);
                FloatVector a00 = b0.fma(FloatVector.fromArray(S, x, xo), z), a01 = b0.fma(FloatVector.fromArray(S, x, xo + L), z);
                FloatVector a02 = b0.fma(FloatVector.fromArray(S, x, xo + 2 * L), z), a03 = b0.fma(FloatVector.fromArray(S, x, xo + 3 * L), z);
                FloatVector a10 = z, a11 = z, a12 = z, a13 = z;
                for (int i = j0 + 1; i < T; i++) {
                    xo = i * hs + c;
                    FloatVector x0 = FloatVector.fromArray(S, x, xo), x1 = FloatVector.fromArray(S, x, xo + L);
                    FloatVector x2 = FloatVector.fromArray(S, x, xo + 2 * L), x3 = FloatVector.fromArray(S, x, xo + 3 * L);
                    FloatVector c0 = FloatVector.broadcast(S, m[i * Tp + j0]), c1 = FloatVector.broadcast(S, m[i * Tp + j0 + 1]);
                    a00 = c0.fma(x0, a00);
                    a01 = c0.fma(x1, a01);
                    a02 = c0.fma(x2, a02);
                    a03 = c0.fma(x3, a03);
                    a10 = c1.fma(x0, a10);
                    a11 = c1.fma(x1, a11);
                    a12 = c1.fma(x2, a12);
                    a13 = c1.fma(x3, a13);
                }
                int o = j0 * hs + c;
                a00.intoArray(out, o);
                a01.intoArray(out, o + L);
                a02.intoArray(out, o + 2 * L);
                a03.intoArray(out, o + 3 * L);
                a10.intoArray(out, o + hs);
                a11.intoArray(out, o + hs + L);
                a12.intoArray(out, o + hs + 2 * L);
                a13.intoArray(out, o + hs + 3 * L);
            }
            for (; j0 < T; j0++) {
                for (int cc = c; cc < c + 4 * L; cc += L) upperTXOne(m, Tp, x, T, hs, j0, cc, out);
            }
        }
        for (; c + L <= hs; c += L) {
            for (int j = 0; j < T; j++) upperTXOne(m, Tp, x, T, hs, j, c, out);
        }
        for (; c < hs; c++) {
            for (int j = 0; j < T; j++) {
                float acc = 0f;
                for (int i = j; i < T; i++) acc = Math.fma(m[i * Tp + j], x[i * hs + c], acc);
                out[j * hs + c] = acc;
            }
        }
    }

    private static void upperTXOne(float[] m, int Tp, float[] x, int T, int hs, int j, int c, float[] out) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = j; i < T; i++) acc = FloatVector.broadcast(S, m[i * Tp + j]).fma(FloatVector.fromArray(S, x, i * hs + c), acc);
        acc.intoArray(out, j * hs + c);
    }
}
