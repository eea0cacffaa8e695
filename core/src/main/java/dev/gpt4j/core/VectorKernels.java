package dev.gpt4j.core;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Every Vector API (jdk.incubator.vector) loop of the Java path, in the one class that is loaded only when
 * {@link Kernels#vectorized()} says the JVM has the module ({@code --add-modules jdk.incubator.vector}); without it the
 * scalar loops of the calling layers run and nothing here is touched.
 *
 * <p>Each loop does the same operations in the same order, element by element, as the scalar loop it replaces, so the
 * bits are the same: {@link Kernels#exp} and {@link Gelu#tanh} lane by lane (the JIT does not vectorize the scalar exp:
 * its float-to-bits moves and branches stop it; here one costs ~0.6 ns instead of ~5), and {@link Attention}'s three
 * head products as the same chains of fused multiply-adds per output element, several elements to a vector and several
 * rows at a time so that each loaded vector serves more than one chain. Columns that do not fill a vector take the
 * scalar chain.
 */
final class VectorKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorKernels() {}

    /** The number of float lanes used ({@code FloatVector.SPECIES_PREFERRED}): 16 with AVX-512, 8 with AVX2. */
    static int lanes() {
        return L;
    }

    /** a[j] = {@link Kernels#exp}(a[j] - shift) for j in [0, n). */
    static void expShifted(float[] a, int n, float shift) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            exp(FloatVector.fromArray(S, a, i).sub(shift)).intoArray(a, i);
        }
        for (; i < n; i++) a[i] = Kernels.exp(a[i] - shift);
    }

    /** th[i] = {@link Gelu#tanh}(x[i]) for i in [0, n). */
    static void geluTanh(float[] x, float[] th, int n) {
        float gk = (float) Gelu.K;
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            // u = gk * (x + 0.044715 x x x), evaluated as the scalar code does: ((0.044715 * x) * x) * x
            FloatVector u = v.add(v.mul(0.044715f).mul(v).mul(v)).mul(gk);
            FloatVector e = exp(u.mul(2f));
            FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(e.add(1f))).intoArray(th, i);
        }
        for (; i < n; i++) th[i] = Gelu.tanh(x[i]);
    }

    /**
     * {@link Kernels#exp} lane by lane (its comment has the method), written for JDK 17's C2, which inlines a Vector API
     * expression only while the method being compiled is small: no masks (their compare and cast are not intrinsified
     * on 512-bit vectors), no scalar shift counts, and no helper methods of ours (C2 stops inlining those past its node
     * budget, and a vector passed to a call that is not inlined becomes an object). The same bits as the scalar code:
     * <ul>
     *   <li>k = round(x log2 e) and kf = k as a float come from the magic number 1.5 · 2^23, as in the scalar code; the
     *       integer bits of t = x log2 e + 1.5 · 2^23 are k plus the bits M of 1.5 · 2^23;</li>
     *   <li>2^k is applied as 2^(k - h) · 2^h with h = floor(k / 2): the first product is exact, the second rounds once,
     *       as the scalar code's single p · 2^k (and p · 2 · 2^(k-1) for k = 128) does, and both factors stay in
     *       float's normal range for every k in reach. h comes from rounding k/2 - 1/4 with the same magic number
     *       (exact for whole and half k/2), and 2^n is (n + 127) · 2^23 read as a float;</li>
     *   <li>k comes from x clamped to ±100, so the exponent bits never wrap; within the scalar code's range
     *       [-87.3, 88.72] the clamp changes nothing;</li>
     *   <li>below -87.3 the result is multiplied by 0, above 88.72 by 2 (from there e^x · 2 is past float's range:
     *       infinity), the factors made of min and max of (x - bound) · 1e30, exactly 0 or 1 (NaN stays NaN).</li>
     * </ul>
     */
    private static FloatVector exp(FloatVector x) {
        FloatVector xk = x.max(-100f).min(100f);
        FloatVector t = xk.mul(Kernels.LOG2E).add(12582912f);
        FloatVector kf = t.sub(12582912f);
        FloatVector r = xk.sub(kf.mul(Kernels.LN2_HI)).sub(kf.mul(Kernels.LN2_LO));
        FloatVector p = r.mul(1f / 5040).add(1f / 720).mul(r).add(1f / 120).mul(r).add(1f / 24).mul(r).add(1f / 6).mul(r)
                .add(1f / 2).mul(r).add(1f).mul(r).add(1f);
        IntVector k = t.reinterpretAsInts();                                                 // k + M
        IntVector h = kf.mul(0.5f).sub(0.25f).add(12582912f).reinterpretAsInts();         // h + M
        FloatVector y = p.mul(k.sub(h).add(127).mul(1 << 23).reinterpretAsFloats())      // · 2^(k - h)
                .mul(h.sub(0x4B400000 - 127).mul(1 << 23).reinterpretAsFloats());         // · 2^h
        FloatVector below = FloatVector.broadcast(S, -87.3f).sub(x).mul(1e30f).max(0f).min(1f); // 1 where x < -87.3
        FloatVector above = x.sub(88.72f).mul(1e30f).max(0f).min(1f);                            // 1 where x > 88.72
        return y.mul(above.add(1f)).mul(FloatVector.broadcast(S, 1f).sub(below));
    }

    /** {@link Attention#lowerABt}: four rows by two vectors of columns at a time, up to the diagonal. */
    static void lowerABt(float[] a, int aOff, float[] bt, int btOff, int Tp, int T, int P, int hs, float[] out, int outTp) {
        int i0 = 0;
        for (; i0 + 4 <= T; i0 += 4) {
            int r0 = aOff + i0 * hs, r1 = r0 + hs, r2 = r1 + hs, r3 = r2 + hs;
            for (int j = 0; j < P + i0 + 4; j += 2 * L) {
                FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                for (int d = 0; d < hs; d++) {
                    int k = btOff + d * Tp + j;
                    FloatVector k0 = FloatVector.fromArray(S, bt, k), k1 = FloatVector.fromArray(S, bt, k + L);
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
                int o = i0 * outTp + j;
                a00.intoArray(out, o);
                a01.intoArray(out, o + L);
                a10.intoArray(out, o + outTp);
                a11.intoArray(out, o + outTp + L);
                a20.intoArray(out, o + 2 * outTp);
                a21.intoArray(out, o + 2 * outTp + L);
                a30.intoArray(out, o + 3 * outTp);
                a31.intoArray(out, o + 3 * outTp + L);
            }
        }
        for (; i0 < T; i0++) {
            int r = aOff + i0 * hs;
            for (int j = 0; j <= P + i0; j += L) {
                FloatVector acc = FloatVector.zero(S);
                for (int d = 0; d < hs; d++) acc = FloatVector.broadcast(S, a[r + d]).fma(FloatVector.fromArray(S, bt, btOff + d * Tp + j), acc);
                acc.intoArray(out, i0 * outTp + j);
            }
        }
    }

    /** {@link Attention#lowerPX}: two rows by four vectors (then one) of columns at a time. */
    static void lowerPX(float[] p, int Tp, float[] x, int xOff, int T, int P, int hs, float[] out) {
        int c = 0;
        for (; c + 4 * L <= hs; c += 4 * L) {
            int i0 = 0;
            for (; i0 + 2 <= T; i0 += 2) {
                int p0 = i0 * Tp, p1 = p0 + Tp;
                FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
                for (int j = 0; j <= P + i0; j++) {
                    int xo = xOff + j * hs + c;
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
                // the second row's last term (j = P + i0 + 1)
                int last = P + i0 + 1, xo = xOff + last * hs + c;
                FloatVector b1 = FloatVector.broadcast(S, p[p1 + last]);
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
                for (int cc = c; cc < c + 4 * L; cc += L) lowerPXOne(p, Tp, x, xOff, P, hs, i0, cc, out);
            }
        }
        for (; c + L <= hs; c += L) {
            for (int i = 0; i < T; i++) lowerPXOne(p, Tp, x, xOff, P, hs, i, c, out);
        }
        for (; c < hs; c++) {
            for (int i = 0; i < T; i++) {
                float acc = 0f;
                for (int j = 0; j <= P + i; j++) acc = Math.fma(p[i * Tp + j], x[xOff + j * hs + c], acc);
                out[i * hs + c] = acc;
            }
        }
    }

    private static void lowerPXOne(float[] p, int Tp, float[] x, int xOff, int P, int hs, int i, int c, float[] out) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j <= P + i; j++) acc = FloatVector.broadcast(S, p[i * Tp + j]).fma(FloatVector.fromArray(S, x, xOff + j * hs + c), acc);
        acc.intoArray(out, i * hs + c);
    }

    /** {@link Attention#upperTX}: two output rows (two columns of m) by four vectors (then one) at a time. */
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
