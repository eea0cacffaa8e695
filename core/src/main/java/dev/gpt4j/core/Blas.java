package dev.gpt4j.core;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * BLAS calls straight through OpenBLAS's CBLAS on the native buffers of ND4J arrays, with leading dimensions
 * ND4J's gemm does not take (a head's slice of the fused qkv projection is a matrix with row stride 3C).
 *
 * <p>Matrix-vector products: {@code cblas_sgemv}. For one row, ND4J's gemm is a BLAS sgemm with M = 1, and the OpenBLAS that ND4J 1.0.0-M2.1 ships
 * (0.3.19) packs the weight matrix for it: a second pass over the weights for every generated token. sgemv
 * reads them once. Used only on the CPU backend, and only when the OpenBLAS natives load; the system property
 * {@code gpt4j.gemv=false} turns it off (to compare the two in a benchmark).
 */
final class Blas {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static final boolean AVAILABLE = probe();

    private Blas() {}

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

    /**
     * A pointer to element {@code offset} of a FLOAT array's data, counted from the array's own first element:
     * a view's buffer already starts at the view (unlike {@code data().asNio()}, which starts at the viewed
     * array's first element).
     */
    static FloatPointer pointer(INDArray base, long offset) {
        if (base.dataType() != DataType.FLOAT) throw new IllegalArgumentException("sgemv needs FLOAT data, not " + base.dataType());
        Pointer p = base.data().addressPointer();
        return new FloatPointer(p).position(offset);
    }

    /** y[out] = x[in] @ W, with W row-major [in, out] at {@code w}. */
    static void xTimesW(FloatPointer x, FloatPointer w, int in, int out, FloatPointer y) {
        openblas_nolapack.cblas_sgemv(ROW_MAJOR, TRANS, in, out, 1f, w, out, x, 1, 0f, y, 1);
    }

    /**
     * c = alpha op(a) op(b) + beta c, all row-major with leading dimensions lda, ldb, ldc; op(a) is [m, k] and
     * op(b) [k, n].
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatPointer a, int lda, FloatPointer b,
                     int ldb, float beta, FloatPointer c, int ldc) {
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
    }

    /** y[rows] = W @ x, with W row-major [rows, cols] at {@code w}. */
    static void wTimesX(FloatPointer w, int rows, int cols, FloatPointer x, FloatPointer y) {
        openblas_nolapack.cblas_sgemv(ROW_MAJOR, NO_TRANS, rows, cols, 1f, w, cols, x, 1, 0f, y, 1);
    }
}
