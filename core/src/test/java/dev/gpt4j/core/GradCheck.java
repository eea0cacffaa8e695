package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Central finite differences, in double precision. */
final class GradCheck {
    private GradCheck() {}

    static final double EPS = 1e-6;

    /** d f / d p[i] by (f(p + eps) - f(p - eps)) / 2 eps, with p[i] restored after. */
    static double numeric(DoubleSupplier f, INDArray p, long i) {
        double old = p.getDouble(i);
        p.putScalar(i, old + EPS);
        double plus = f.getAsDouble();
        p.putScalar(i, old - EPS);
        double minus = f.getAsDouble();
        p.putScalar(i, old);
        return (plus - minus) / (2 * EPS);
    }

    /**
     * Compares an analytic gradient with finite differences at the given flat indices (all when null): the
     * relative error ||a - n|| / max(||a||, ||n||) must be below {@code tol}.
     */
    static double check(String what, DoubleSupplier f, INDArray param, INDArray analytic, long[] indices, double tol) {
        INDArray p = param.reshape(param.length()), g = analytic.reshape(analytic.length());
        long n = indices == null ? p.length() : indices.length;
        double diff2 = 0, a2 = 0, n2 = 0;
        for (int k = 0; k < n; k++) {
            long i = indices == null ? k : indices[k];
            double num = numeric(f, p, i), an = g.getDouble(i);
            diff2 += (num - an) * (num - an);
            a2 += an * an;
            n2 += num * num;
        }
        double rel = Math.sqrt(diff2) / Math.max(1e-12, Math.max(Math.sqrt(a2), Math.sqrt(n2)));
        assertTrue(a2 > 0 || n2 > 0 || n == 0, what + ": gradient is all zero, which checks nothing");
        assertTrue(rel < tol, what + ": relative error " + rel + " >= " + tol + " (|analytic| " + Math.sqrt(a2) + ", |numeric| " + Math.sqrt(n2) + ")");
        return rel;
    }
}
