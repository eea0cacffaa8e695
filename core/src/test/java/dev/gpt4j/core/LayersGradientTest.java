package dev.gpt4j.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.*;

/** Each layer's backward against central finite differences in double precision (relative error < 1e-6). */
class LayersGradientTest {
    static final double TOL = 1e-6;

    static INDArray randn(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, shape);
    }

    /** f = sum(out * r), so that d f / d out = r. */
    static double dot(INDArray out, INDArray r) {
        return out.mul(r).sumNumber().doubleValue();
    }

    @Test
    void linear() {
        INDArray x = randn(1, 5, 4), w = randn(2, 4, 3), b = randn(3, 3), r = randn(4, 5, 3);
        INDArray out = Nd4j.create(DataType.DOUBLE, 5, 3);
        java.util.function.DoubleSupplier f = () -> {
            Linear.forward(Compute.ND4J, x, w, b, out);
            return dot(out, r);
        };
        INDArray dx = Nd4j.create(DataType.DOUBLE, 5, 4), dw = Nd4j.zeros(DataType.DOUBLE, 4, 3), db = Nd4j.zeros(DataType.DOUBLE, 3);
        Linear.backward(Compute.ND4J, r, x, w, dx, dw, db, false);
        GradCheck.check("linear dx", f, x, dx, null, TOL);
        GradCheck.check("linear dw", f, w, dw, null, TOL);
        GradCheck.check("linear db", f, b, db, null, TOL);
        // accumulation: dx += and dw += add on top of what is there
        INDArray dx2 = dx.dup(), dw2 = dw.dup();
        Linear.backward(Compute.ND4J, r, x, w, dx2, dw2, db.dup(), true);
        assertTrue(dx2.equalsWithEps(dx.mul(2), 1e-12));
        assertTrue(dw2.equalsWithEps(dw.mul(2), 1e-12));
    }

    @Test
    void layerNorm() {
        INDArray x = randn(5, 4, 6), w = randn(6, 6), b = randn(7, 6), r = randn(8, 4, 6);
        x.getRow(2).assign(0.5); // a constant row: finite only because of eps
        double eps = 1e-5;
        INDArray out = Nd4j.create(DataType.DOUBLE, 4, 6), xhat = out.dup(), mean = Nd4j.create(DataType.DOUBLE, 4), rstd = mean.dup();
        java.util.function.DoubleSupplier f = () -> {
            LayerNorm.forward(Compute.ND4J, x, w, b, eps, out, xhat, mean, rstd);
            return dot(out, r);
        };
        f.getAsDouble();
        assertFalse(out.isNaN().any(), "a constant row must not give NaN");
        // the mean and variance of a normalised row are 0 and 1 (up to eps)
        assertEquals(0, xhat.getRow(0).meanNumber().doubleValue(), 1e-12);
        assertEquals(1, xhat.getRow(0).mul(xhat.getRow(0)).meanNumber().doubleValue(), 1e-3);
        INDArray dx = Nd4j.create(DataType.DOUBLE, 4, 6), dw = Nd4j.zeros(DataType.DOUBLE, 6), db = Nd4j.zeros(DataType.DOUBLE, 6);
        LayerNorm.backward(Compute.ND4J, r, xhat, rstd, w, dx, dw, db, out.dup(), out.dup(), mean.dup(), false);
        GradCheck.check("layernorm dx", f, x, dx, null, TOL);
        GradCheck.check("layernorm dw", f, w, dw, null, TOL);
        GradCheck.check("layernorm db", f, b, db, null, TOL);
    }

    @Test
    void gelu() {
        INDArray x = randn(9, 5, 7).muli(2), r = randn(10, 5, 7);
        INDArray out = x.like(), th = x.like();
        java.util.function.DoubleSupplier f = () -> {
            Gelu.forward(Compute.ND4J, x, out, th);
            return dot(out, r);
        };
        f.getAsDouble();
        // the tanh form, computed element by element
        for (int i = 0; i < x.length(); i++) {
            double v = x.getDouble(i), expect = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            assertEquals(expect, out.getDouble(i), 1e-12);
        }
        INDArray dx = x.like();
        Gelu.backward(Compute.ND4J, r, x, th, dx, x.like());
        GradCheck.check("gelu dx", f, x, dx, null, TOL);
    }

    @Test
    void softmaxBackward() {
        INDArray x = randn(11, 2, 3, 4, 4), r = randn(12, 2, 3, 4, 4), out = x.like();
        java.util.function.DoubleSupplier f = () -> {
            Softmax.forward(x, out);
            return dot(out, r);
        };
        INDArray dx = x.like();
        Softmax.backward(x, r, dx);
        GradCheck.check("softmax dx", f, x, dx, null, TOL);
    }
}
