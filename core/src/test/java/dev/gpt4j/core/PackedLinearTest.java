package dev.gpt4j.core;

import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.core.quant.QuantizedMatrix;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A packed layer on the Java path. At inference it works through a small scratch shared by a model's layers, a chunk
 * of rows at a time: it must give the bits of the whole product taken at once (QuantizedMatrix computes every output
 * the same way whatever the number of rows), and two layers sharing the scratch must not see each other's rows. In
 * training (forward and backward) it multiplies with OpenBLAS over tiles of dequantized rows: the product of the
 * dequantized weights, to float rounding.
 */
class PackedLinearTest {
    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    private static Linear layer(String name, QuantizedMatrix q, Linear.Scratch scratch) {
        Parameters.Layout layout = new Parameters.Layout();
        layout.add(name + ".bias", q.rows()); // zeros: adding them keeps the product's bits
        return new Linear(new Parameters(layout.slots(), DataType.FLOAT), name, true, Compute.JAVA, q, scratch);
    }

    @Test
    void packedProductsComputeTheDequantizedProducts() {
        int N = 600, I = 128, O = 192; // 600 rows: two full chunks of 256 and a partial one
        Linear.Scratch shared = new Linear.Scratch();
        for (QuantType type : new QuantType[] {QuantType.Q8_0, QuantType.Q4_0, QuantType.NF4, QuantType.F16}) {
            QuantizedMatrix q = QuantizedMatrix.quantize(type, random(O * I, 1), O, I);
            QuantizedMatrix q2 = QuantizedMatrix.quantize(type, random(I * O, 2), I, O); // [out I, in O]: the next layer
            Linear a = layer("a", q, shared), b = layer("b", q2, shared);
            float[] xs = random(N * I, 3);
            INDArray x = Nd4j.createFromArray(xs).reshape(N, I), h = Nd4j.create(DataType.FLOAT, N, O), y = Nd4j.create(DataType.FLOAT, N, I);
            a.forward(x, h);
            b.forward(h, y); // overwrites the shared scratch
            float[] hRef = new float[N * O], yRef = new float[N * I];
            q.matmul(xs, N, hRef, 0, O);
            q2.matmul(hRef, N, yRef, 0, I);
            assertArrayEquals(hRef, h.data().asFloat(), 0f, type + " forward, first layer");
            assertArrayEquals(yRef, y.data().asFloat(), 0f, type + " forward, second layer");

            // a training forward and the backward: OpenBLAS over tiles of dequantized rows (600 rows, 192 outputs: a
            // tile and part of one), against the product in double of the dequantized weights
            float[] w = q.dequantize(); // [O, I]
            INDArray ht = Nd4j.create(DataType.FLOAT, N, O);
            a.forward(x, ht, null, null, false, true);
            float[] dys = random(N * O, 4), dx0 = random(N * I, 5);
            INDArray dout = Nd4j.createFromArray(dys).reshape(N, O), dx = Nd4j.createFromArray(dx0.clone()).reshape(N, I);
            a.backward(dout, x, dx, true);
            float[] got = ht.data().asFloat(), gotDx = dx.data().asFloat();
            for (int r = 0; r < N; r++) {
                for (int o = 0; o < O; o++) {
                    double ref = 0, mag = 0;
                    for (int i = 0; i < I; i++) {
                        ref += (double) xs[r * I + i] * w[o * I + i];
                        mag += Math.abs((double) xs[r * I + i] * w[o * I + i]);
                    }
                    assertEquals(ref, got[r * O + o], 1e-6 * mag, type + " training forward [" + r + ", " + o + "]");
                }
                for (int i = 0; i < I; i++) {
                    double ref = dx0[r * I + i], mag = Math.abs(ref);
                    for (int o = 0; o < O; o++) {
                        ref += (double) dys[r * O + o] * w[o * I + i];
                        mag += Math.abs((double) dys[r * O + o] * w[o * I + i]);
                    }
                    assertEquals(ref, gotDx[r * I + i], 1e-6 * mag, type + " backward, added [" + r + ", " + i + "]");
                }
            }
            a.backward(dout, x, dx, false);
            float[] over = dx.data().asFloat();
            for (int i = 0; i < I; i++) { // row 599, the last: the last chunk of rows
                double ref = 0, mag = 0;
                for (int o = 0; o < O; o++) {
                    ref += (double) dys[599 * O + o] * w[o * I + i];
                    mag += Math.abs((double) dys[599 * O + o] * w[o * I + i]);
                }
                assertEquals(ref, over[599 * I + i], 1e-6 * mag, type + " backward, overwritten [599, " + i + "]");
            }
        }
    }
}
