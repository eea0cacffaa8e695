package dev.gpt4j.core;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Matrix-vector products straight through OpenBLAS's {@code cblas_sgemv}, on the native buffers of ND4J
 * arrays. For one row, ND4J's gemm is a BLAS sgemm with M = 1, and the OpenBLAS that ND4J 1.0.0-M2.1 ships
 * (0.3.19) packs the weight matrix for it: a second pass over the weights for every generated token. sgemv
 * reads them once. Used only on the CPU backend, and only when the OpenBLAS natives load; the system property
 * {@code gpt4j.gemv=false} turns it off (to compare the two in a benchmark).
 */
final class Gemv {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static final boolean AVAILABLE = probe();

    private Gemv() {}

    static boolean available() {
        return AVAILABLE;
    }

    private static boolean probe() {
        if ("false".equalsIgnoreCase(System.getProperty("gpt4j.gemv"))) return false;
        if (!Nd4j.getBackend().getClass().getName().contains(".cpu.")) return false;
        try {
            // a 2x2 product checks that the library loads and computes
            float[] out = new float[2];
            try (FloatPointer a = new FloatPointer(1f, 2f, 3f, 4f); FloatPointer x = new FloatPointer(1f, 1f);
                 FloatPointer y = new FloatPointer(2)) {
                openblas_nolapack.cblas_sgemv(ROW_MAJOR, NO_TRANS, 2, 2, 1f, a, 2, x, 1, 0f, y, 1);
                y.get(out);
            }
            return out[0] == 3f && out[1] == 7f;
        } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError: no natives on this backend
            return false;
        }
    }

    /** A pointer to element {@code offset} of a contiguous FLOAT array whose own offset is 0. */
    static FloatPointer pointer(INDArray base, long offset) {
        if (base.dataType() != DataType.FLOAT) throw new IllegalArgumentException("sgemv needs FLOAT data, not " + base.dataType());
        Pointer p = base.data().addressPointer();
        return new FloatPointer(p).position(offset);
    }

    /** y[out] = x[in] @ W, with W row-major [in, out] at {@code w}. */
    static void xTimesW(FloatPointer x, FloatPointer w, int in, int out, FloatPointer y) {
        openblas_nolapack.cblas_sgemv(ROW_MAJOR, TRANS, in, out, 1f, w, out, x, 1, 0f, y, 1);
    }

    /** y[rows] = W @ x, with W row-major [rows, cols] at {@code w}. */
    static void wTimesX(FloatPointer w, int rows, int cols, FloatPointer x, FloatPointer y) {
        openblas_nolapack.cblas_sgemv(ROW_MAJOR, NO_TRANS, rows, cols, 1f, w, cols, x, 1, 0f, y, 1);
    }
}
