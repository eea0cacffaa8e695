package dev.gpt4j.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.junit.jupiter.api.Assertions.*;

/** The direct sgemv path of the KV cache against ND4J's gemm, at an offset inside a flat buffer. */
class BlasTest {
    @Test
    void availableOnTheCpuBackend() {
        assertTrue(Blas.available(), "the CPU build should reach OpenBLAS's sgemv; without it generation falls back to gemm");
    }

    @Test
    void productsAtAnOffsetEqualGemm() {
        int in = 37, out = 53, off = 11;
        Nd4j.getRandom().setSeed(5);
        INDArray flat = Nd4j.rand(DataType.FLOAT, 1, off + in * out + 3).reshape(off + in * out + 3L);
        INDArray w = flat.get(NDArrayIndex.interval(off, off + in * out)).reshape('c', in, out);
        INDArray x = Nd4j.rand(DataType.FLOAT, 1, in);
        INDArray y = Nd4j.create(DataType.FLOAT, 1, out);
        Blas.xTimesW(Blas.pointer(x, 0), Blas.pointer(flat, off), in, out, Blas.pointer(y, 0));
        INDArray ref = x.mmul(w.dup());
        for (int j = 0; j < out; j++) assertEquals(ref.getFloat(0, j), y.getFloat(0, j), 1e-5f, "x @ W, column " + j);
        INDArray v = Nd4j.rand(DataType.FLOAT, 1, out);
        INDArray z = Nd4j.create(DataType.FLOAT, 1, in);
        Blas.wTimesX(Blas.pointer(flat, off), in, out, Blas.pointer(v, 0), Blas.pointer(z, 0));
        INDArray ref2 = w.dup().mmul(v.reshape(out, 1));
        for (int i = 0; i < in; i++) assertEquals(ref2.getFloat(i, 0), z.getFloat(0, i), 1e-5f, "W @ v, row " + i);
    }
}
