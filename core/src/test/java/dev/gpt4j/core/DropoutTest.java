package dev.gpt4j.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropoutTest {
    private static INDArray ramp(int rows, int cols) {
        INDArray x = Nd4j.create(DataType.FLOAT, rows, cols);
        for (int i = 0; i < rows * cols; i++) x.putScalar(i, (i % 97) * 0.25f - 11f);
        return x;
    }

    private static float[] apply(Compute compute, INDArray x, INDArray mask, double p, long key, int draw) {
        Dropout.Draws d = new Dropout.Draws();
        d.reset(key);
        for (int k = 0; k < draw; k++) Dropout.forward(compute, x.dup(), mask.dup(), p, d); // earlier masks of the pass
        Dropout.forward(compute, x, mask, p, d);
        return x.data().asFloat();
    }

    @Test
    void bothPathsDrawTheSameMasksAndApplyThemInFloat() {
        double p = 0.3;
        float scale = (float) (1.0 / (1.0 - p));
        for (int draw = 0; draw < 3; draw++) {
            INDArray xj = ramp(300, 70), mj = Nd4j.create(DataType.FLOAT, 300, 70);
            INDArray xn = ramp(300, 70), mn = Nd4j.create(DataType.FLOAT, 300, 70);
            float[] outJ = apply(Compute.JAVA, xj, mj, p, 42, draw), outN = apply(Compute.ND4J, xn, mn, p, 42, draw);
            float[] maskJ = mj.data().asFloat(), maskN = mn.data().asFloat(), x = ramp(300, 70).data().asFloat();
            assertArrayEquals(maskN, maskJ, 0f, "draw " + draw);
            assertArrayEquals(outN, outJ, 0f, "draw " + draw);
            for (int i = 0; i < x.length; i++) {
                assertTrue(maskJ[i] == 0f || maskJ[i] == scale, "mask value " + maskJ[i]);
                assertEquals(x[i] * maskJ[i], outJ[i], 0f);
            }
        }
    }

    @Test
    void intoAnotherBufferGivesWhatInPlaceGivesAndLeavesTheInputAlone() {
        for (Compute compute : Compute.values()) {
            INDArray x = ramp(40, 33), out = Nd4j.create(DataType.FLOAT, 40, 33), m1 = Nd4j.create(DataType.FLOAT, 40, 33);
            INDArray y = ramp(40, 33), m2 = Nd4j.create(DataType.FLOAT, 40, 33);
            Dropout.Draws d1 = new Dropout.Draws(), d2 = new Dropout.Draws();
            d1.reset(11);
            d2.reset(11);
            Dropout.forward(compute, x, out, m1, 0.25, d1);
            Dropout.forward(compute, y, m2, 0.25, d2);
            assertArrayEquals(ramp(40, 33).data().asFloat(), x.data().asFloat(), 0f, compute + ": the input is kept");
            assertArrayEquals(y.data().asFloat(), out.data().asFloat(), 0f, compute.toString());
            assertArrayEquals(m2.data().asFloat(), m1.data().asFloat(), 0f, compute.toString());
        }
    }

    @Test
    void aboutPOfTheValuesAreDroppedAndEachMaskIsNew() {
        int n = 200_000;
        double p = 0.1;
        Dropout.Draws d = new Dropout.Draws();
        d.reset(7);
        INDArray m1 = Nd4j.create(DataType.FLOAT, n), m2 = Nd4j.create(DataType.FLOAT, n);
        Dropout.forward(Compute.JAVA, Nd4j.ones(DataType.FLOAT, n), m1, p, d);
        Dropout.forward(Compute.JAVA, Nd4j.ones(DataType.FLOAT, n), m2, p, d);
        float[] a = m1.data().asFloat(), b = m2.data().asFloat();
        int dropped = 0, both = 0;
        for (int i = 0; i < n; i++) {
            if (a[i] == 0) dropped++;
            if (a[i] == 0 && b[i] == 0) both++;
        }
        // binomial: mean n p = 20,000, sd 134; a second mask independent of the first: n p^2 = 2,000, sd 44
        assertEquals(n * p, dropped, 4 * Math.sqrt(n * p * (1 - p)));
        assertEquals(n * p * p, both, 4 * Math.sqrt(n * p * p * (1 - p * p)));
        // the same key draws the same masks; another key others
        Dropout.Draws again = new Dropout.Draws();
        again.reset(7);
        INDArray m3 = Nd4j.create(DataType.FLOAT, n);
        Dropout.forward(Compute.JAVA, Nd4j.ones(DataType.FLOAT, n), m3, p, again);
        assertArrayEquals(a, m3.data().asFloat(), 0f);
        again.reset(8);
        Dropout.forward(Compute.JAVA, Nd4j.ones(DataType.FLOAT, n), m3, p, again);
        assertFalse(java.util.Arrays.equals(a, m3.data().asFloat()));
    }

    @Test
    void uniformsCoverTheUnitIntervalEvenly() {
        int[] bins = new int[16];
        int n = 160_000;
        for (int i = 0; i < n; i++) {
            float u = Dropout.uniform(Dropout.mix(3), i);
            assertTrue(u >= 0f && u < 1f, "u = " + u);
            bins[(int) (u * 16)]++;
        }
        for (int b : bins) assertEquals(n / 16.0, b, 4 * Math.sqrt(n / 16.0)); // 10,000 ± 400
    }
}
