package dev.gpt4j.core;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels#exp} and {@link Kernels#geluTanh} over arrays with the Vector API (jdk.incubator.vector), the same
 * operations in the same order lane by lane, so the results are the same bits as the scalar loops'. The JIT does
 * not vectorize the scalar exp (its float-to-bits moves and branches stop it), and the exps of the cross-entropy,
 * the attention softmax and GELU took about a fifth of a training step; here one costs ~0.6 ns instead of ~5.
 *
 * <p>Only touched when {@link Kernels#vectorized()} says the module is in the boot layer (the JVM was started with
 * {@code --add-modules jdk.incubator.vector}); without it the scalar loops run and nothing here is loaded.
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorMath() {}

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

    /** th[i] = {@link Kernels#geluTanh}(x[i]) for i in [0, n). */
    static void geluTanh(float[] x, float[] th, int n) {
        float gk = (float) Kernels.GELU_K;
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            // u = gk * (x + 0.044715 x x x), evaluated as the scalar code does: ((0.044715 * x) * x) * x
            FloatVector u = v.add(v.mul(0.044715f).mul(v).mul(v)).mul(gk);
            FloatVector e = exp(u.mul(2f));
            FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(e.add(1f))).intoArray(th, i);
        }
        for (; i < n; i++) th[i] = Kernels.geluTanh(x[i]);
    }

    /** {@link Kernels#exp} lane by lane (its comment has the method). */
    private static FloatVector exp(FloatVector x) {
        FloatVector t = x.mul(Kernels.LOG2E).add(12582912f);
        IntVector k = t.reinterpretAsInts().sub(0x4B400000);
        FloatVector kf = t.sub(12582912f);
        FloatVector r = x.sub(kf.mul(Kernels.LN2_HI)).sub(kf.mul(Kernels.LN2_LO));
        FloatVector p = r.mul(1f / 5040).add(1f / 720).mul(r).add(1f / 120).mul(r).add(1f / 24).mul(r).add(1f / 6).mul(r)
                .add(1f / 2).mul(r).add(1f).mul(r).add(1f);
        VectorMask<Integer> big = k.compare(VectorOperators.GT, 127);
        FloatVector y;
        if (big.anyTrue()) { // 2^128 is not a float: p * 2 * 2^(k-1) there, as the scalar code
            FloatVector small = p.mul(pow2(k));
            FloatVector large = p.mul(2f).mul(pow2(k.sub(1)));
            y = small.blend(large, big.cast(S));
        } else {
            y = p.mul(pow2(k));
        }
        return y.blend(0f, x.lt(-87.3f)).blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, 88.72f));
    }

    /** 2^k as floats, built in the exponent bits (k in float's normal range; other lanes are blended away). */
    private static FloatVector pow2(IntVector k) {
        return k.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }
}
