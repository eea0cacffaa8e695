package dev.gpt4j.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The standalone attention block against plain loops (forward) and central differences (backward). */
class CausalSelfAttentionTest {
    private static INDArray random(DataType dtype, long seed, long... shape) {
        Random r = new Random(seed);
        long n = 1;
        for (long d : shape) n *= d;
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextGaussian();
        return Nd4j.createFromArray(v).castTo(dtype).reshape('c', shape);
    }

    /** The block's arithmetic in double loops, one position at a time, from its weights. */
    private static double[][] reference(CausalSelfAttention att, double[][] x, int B, int T) {
        int C = att.embedDim(), H = att.heads(), hs = C / H;
        double[][] wa = att.params().get("c_attn.weight").toDoubleMatrix(), wp = att.params().get("c_proj.weight").toDoubleMatrix();
        double[] ba = att.params().get("c_attn.bias").toDoubleVector(), bp = att.params().get("c_proj.bias").toDoubleVector();
        double[][] qkv = new double[B * T][3 * C], out = new double[B * T][C];
        for (int r = 0; r < B * T; r++) for (int o = 0; o < 3 * C; o++) {
            double s = ba[o];
            for (int i = 0; i < C; i++) s += x[r][i] * wa[i][o];
            qkv[r][o] = s;
        }
        for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) {
            double[] y = new double[C];
            for (int h = 0; h < H; h++) {
                double[] p = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j <= t; j++) {
                    double s = 0;
                    for (int d = 0; d < hs; d++) s += qkv[b * T + t][h * hs + d] * qkv[b * T + j][C + h * hs + d];
                    p[j] = s / Math.sqrt(hs);
                    max = Math.max(max, p[j]);
                }
                for (int j = 0; j <= t; j++) sum += p[j] = Math.exp(p[j] - max);
                for (int j = 0; j <= t; j++) for (int d = 0; d < hs; d++) y[h * hs + d] += p[j] / sum * qkv[b * T + j][2 * C + h * hs + d];
            }
            for (int o = 0; o < C; o++) {
                double s = bp[o];
                for (int i = 0; i < C; i++) s += y[i] * wp[i][o];
                out[b * T + t][o] = s;
            }
        }
        return out;
    }

    @Test
    void forwardMatchesPlainLoopsInFloatAndDouble() {
        int B = 2, T = 7, C = 12, H = 3;
        for (DataType dtype : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            CausalSelfAttention att = new CausalSelfAttention(C, H, 0.0, true, dtype, 5);
            att.params().values().addi(random(dtype, 9, att.params().size()).muli(0.3)); // not uniform attention
            INDArray x = random(dtype, 1, B * T, C);
            double[][] want = reference(att, x.toDoubleMatrix(), B, T);
            double[][] got = att.forward(x, B, T).toDoubleMatrix();
            double tol = dtype == DataType.FLOAT ? 1e-5 : 1e-12;
            for (int r = 0; r < B * T; r++) for (int o = 0; o < C; o++) {
                assertEquals(want[r][o], got[r][o], tol * Math.max(1, Math.abs(want[r][o])), dtype + " out[" + r + ", " + o + "]");
            }
        }
    }

    /** sum(out * w) for a fixed w: its gradient with respect to out is w. */
    private static double loss(CausalSelfAttention att, INDArray x, INDArray w, int B, int T) {
        return att.forward(x, B, T).mul(w).sumNumber().doubleValue();
    }

    private static void assertGradientsByFiniteDifferences(double dropout) {
        int B = 2, T = 5, C = 8, H = 2;
        CausalSelfAttention att = new CausalSelfAttention(C, H, dropout, true, DataType.DOUBLE, 3);
        att.params().values().addi(random(DataType.DOUBLE, 4, att.params().size()).muli(0.3));
        att.setDropoutStep(7); // the same masks in every forward below
        INDArray x = random(DataType.DOUBLE, 2, B * T, C), w = random(DataType.DOUBLE, 6, B * T, C);
        att.zeroGrad();
        att.forward(x, B, T);
        INDArray dx = att.backward(w).dup();
        INDArray grads = att.params().grads().dup();
        for (Worst worst : new Worst[] {worstByFiniteDifferences(att, x, w, B, T, x, dx, "dx"),
                worstByFiniteDifferences(att, x, w, B, T, att.params().values(), grads, "parameter")}) {
            assertTrue(worst.rel() < 1e-6, "worst relative error " + worst.rel() + " at " + worst.where());
        }
        assertTrue(grads.norm2Number().doubleValue() > 0 && dx.norm2Number().doubleValue() > 0, "some gradient");
    }

    private record Worst(double rel, String where) {}

    /** The largest relative error of {@code analytic} against central differences over the elements of {@code a}. */
    private static Worst worstByFiniteDifferences(CausalSelfAttention att, INDArray x, INDArray w, int B, int T, INDArray a,
                                                   INDArray analytic, String what) {
        double h = 1e-6, worst = 0;
        long at = -1;
        for (long i = 0; i < a.length(); i++) {
            double v = a.getDouble(i);
            a.putScalar(i, v + h);
            double up = loss(att, x, w, B, T);
            a.putScalar(i, v - h);
            double down = loss(att, x, w, B, T);
            a.putScalar(i, v);
            double num = (up - down) / (2 * h), an = analytic.getDouble(i);
            double rel = Math.abs(num - an) / Math.max(1e-3, Math.abs(num) + Math.abs(an));
            if (rel > worst) {
                worst = rel;
                at = i;
            }
        }
        return new Worst(worst, what + "[" + at + "]");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        assertGradientsByFiniteDifferences(0.0);
    }

    @Test
    void gradientsMatchFiniteDifferencesWithDropout() {
        assertGradientsByFiniteDifferences(0.3);
    }

    @Test
    void floatPathGivesTheDoubleGradients() {
        int B = 3, T = 9, C = 16, H = 4;
        double[][] dx = new double[2][], g = new double[2][];
        DataType[] types = {DataType.FLOAT, DataType.DOUBLE};
        for (int k = 0; k < 2; k++) {
            CausalSelfAttention att = new CausalSelfAttention(C, H, 0.0, true, types[k], 8);
            att.params().values().addi(random(types[k], 4, att.params().size()).muli(0.3));
            att.forward(random(types[k], 2, B * T, C), B, T);
            dx[k] = att.backward(random(types[k], 6, B * T, C)).reshape(-1).toDoubleVector();
            g[k] = att.params().grads().toDoubleVector();
        }
        for (int i = 0; i < dx[1].length; i++) assertEquals(dx[1][i], dx[0][i], 1e-4 * Math.max(1, Math.abs(dx[1][i])), "dx " + i);
        for (int i = 0; i < g[1].length; i++) assertEquals(g[1][i], g[0][i], 1e-4 * Math.max(1, Math.abs(g[1][i])), "gradient " + i);
    }

    @Test
    void badShapesAreNamed() {
        CausalSelfAttention att = new CausalSelfAttention(8, 2, 0.0, false, DataType.FLOAT, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> att.forward(Nd4j.create(DataType.FLOAT, 10, 6), 2, 5));
        assertTrue(e.getMessage().contains("[10, 8]") && e.getMessage().contains("[10, 6]"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> att.backward(Nd4j.create(DataType.FLOAT, 10, 8)));
        var h = assertThrows(IllegalArgumentException.class, () -> new CausalSelfAttention(10, 3, 0.0, true, DataType.FLOAT, 1));
        assertTrue(h.getMessage().contains("10") && h.getMessage().contains("3"), h.getMessage());
        assertEquals(2, att.params().slots().size(), "no biases: two weights");
    }
}
