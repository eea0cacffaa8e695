package dev.gpt4j.core;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * BLAS calls straight through OpenBLAS's CBLAS on the native buffers of ND4J arrays: the matrix products of the
 * {@link Compute#JAVA} path.
 *
 * <p>Matrix-vector products: {@code cblas_sgemv}. For one row, ND4J's gemm is a BLAS sgemm with M = 1, and the
 * OpenBLAS that ND4J 1.0.0-M2.1 ships (0.3.19) packs the weight matrix for it: a second pass over the weights for
 * every generated token. sgemv reads them once.
 *
 * <p>Used only on the CPU backend, and only when the OpenBLAS natives load (else ND4J's gemm does the products).
 * {@code -Dgpt4j.gemv=false} turns this whole class off, to compare it with ND4J's gemm in a benchmark.
 */
final class Blas {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static final boolean AVAILABLE = probe();
    /**
     * Whether training may put OpenBLAS on one thread and split its products over gpt4j's pool (see
     * {@link #forTraining}); {@code -Dgpt4j.blas.threads=openblas} leaves OpenBLAS's threads alone.
     */
    private static final boolean OWN_THREADS = AVAILABLE && Compute.OWN_BLAS_THREADS;
    /** OpenBLAS's thread count when this class loaded: what generation gets back. */
    private static final int OPENBLAS_THREADS = AVAILABLE ? Math.max(1, Nd4j.factory().blas().getMaxThreads()) : 1;
    /** True while OpenBLAS is on one thread and products are split by {@link #gemm}. */
    private static volatile boolean single;
    /** True once forwards may run on several threads at once ({@link #pinOneThread}): OpenBLAS stays on one thread. */
    private static volatile boolean pinned;

    private Blas() {}

    /** Below this many rows a forward keeps OpenBLAS's own threads ({@link #forGeneration}); from it on, {@link #forTraining}. */
    static final int SPLIT_ROWS = 16;

    /** The threading for products of {@code rows} rows: split over gpt4j's pool for many, OpenBLAS's own for a few. */
    static void forRows(int rows) {
        if (rows >= SPLIT_ROWS) forTraining();
        else forGeneration();
    }

    /**
     * Before a training forward or backward, and a prompt's prefill: OpenBLAS on one thread, products split over
     * gpt4j's pool.
     * OpenBLAS's worker threads wait for work by spinning on sched_yield for about 0.1 s after every call. Between
     * the products of a training step that is always, so on two cores they took the core that gpt4j's own kernels
     * run their second half on: perf counted 15-20% of the step's CPU time in sched_yield and the scheduler. With
     * OpenBLAS on one thread and the products split over gpt4j's pool instead, nothing spins. (OpenBLAS's thread
     * count is process-wide; ND4J's setMaxThreads sets it.)
     */
    static void forTraining() {
        if (OWN_THREADS && !single && !pinned) {
            Nd4j.factory().blas().setMaxThreads(1);
            single = true;
        }
    }

    /**
     * Before generation: OpenBLAS's own threads back. One token is a few matrix-vector products of well under a
     * millisecond each; waking gpt4j's pool for each cost more than it saved (generation 1.6x slower).
     */
    static void forGeneration() {
        if (single && !pinned) {
            Nd4j.factory().blas().setMaxThreads(OPENBLAS_THREADS);
            single = false;
        }
    }

    /**
     * c = alpha op(a) op(b) + beta c for dense row-major FLOAT matrices, as ND4J's gemm; the rows (or columns,
     * whichever are more) of c split over {@link Kernels#parallel}'s fixed parts when OpenBLAS runs single-threaded;
     * one call on OpenBLAS's own threads otherwise (ND4J's gemm for arrays that are not dense row-major).
     */
    static void gemm(boolean transA, boolean transB, double alpha, INDArray a, INDArray b, double beta, INDArray c) {
        int m = (int) c.size(0), n = (int) c.size(1), k = (int) (transA ? a.size(0) : a.size(1));
        int lda = (int) a.size(1), ldb = (int) b.size(1);
        if ((transB ? b.size(1) : b.size(0)) != k || (transA ? a.size(1) : a.size(0)) != m || (transB ? b.size(0) : b.size(1)) != n) {
            throw new IllegalArgumentException("gemm shapes do not match: " + java.util.Arrays.toString(a.shape()) + (transA ? "^T" : "")
                    + " x " + java.util.Arrays.toString(b.shape()) + (transB ? "^T" : "") + " -> " + java.util.Arrays.toString(c.shape()));
        }
        float al = (float) alpha, be = (float) beta;
        if (!single) {
            // straight to OpenBLAS: ND4J's gemm builds an op context and native buffers per call (0.2 ms for a
            // rank-16 adapter product, 4x a whole one-token step without the adapter)
            if (rowMajor(a) && rowMajor(b) && rowMajor(c)) {
                gemm(transA, transB, m, n, k, al, pointer(a, 0), lda, pointer(b, 0), ldb, be, pointer(c, 0), n);
            } else {
                Nd4j.gemm(a, b, c, transA, transB, alpha, beta);
            }
            return;
        }
        if (m >= n) {
            Kernels.parallel(m, 32, (m0, m1) -> gemm(transA, transB, m1 - m0, n, k, al, pointer(a, transA ? m0 : (long) m0 * lda), lda,
                    pointer(b, 0), ldb, be, pointer(c, (long) m0 * n), n));
        } else {
            Kernels.parallel(n, 32, (n0, n1) -> gemm(transA, transB, m, n1 - n0, k, al, pointer(a, 0), lda,
                    pointer(b, transB ? (long) n0 * ldb : n0), ldb, be, pointer(c, n0), n));
        }
    }

    /** A dense row-major FLOAT matrix: what the pointer-based calls read. */
    private static boolean rowMajor(INDArray x) {
        return x.rank() == 2 && x.dataType() == DataType.FLOAT && x.stride(1) == 1 && x.stride(0) == x.size(1);
    }

    /**
     * For forwards on several threads at once (model replicas, one per serving thread): OpenBLAS on one thread from
     * now on, for the whole process. Its thread pool is not made for concurrent callers, and a switch of its thread
     * count in one forward ({@link #forRows}) would change it under another. Products are still split over gpt4j's pool
     * while one forward runs alone; beside another ({@link Kernels#crowded}) each keeps to its thread.
     */
    static synchronized void pinOneThread() {
        if (pinned || !AVAILABLE) return;
        Nd4j.factory().blas().setMaxThreads(1);
        single = true;
        pinned = true;
    }

    /**
     * Whether a one-row product goes to sgemv: OpenBLAS is there and keeps its own threads (generation), or is pinned
     * to one thread (then the sgemv runs on the calling thread).
     */
    static boolean oneRowProducts() {
        return AVAILABLE && (!single || pinned);
    }

    static boolean available() {
        return AVAILABLE;
    }

    private static boolean probe() {
        if (!Compute.GEMV_WANTED || !Compute.cpuBackend()) return false;
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

    /**
     * c[m, n] = alpha a[m, k] op(b) + beta c for FLOAT arrays read at element offsets with leading dimensions of their
     * own (blocks of columns of larger row-major arrays): the rows of c split over gpt4j's pool while OpenBLAS runs
     * single-threaded ({@link #forTraining}), else one call with OpenBLAS's threads.
     */
    static void gemmAt(boolean transB, int m, int n, int k, float alpha, INDArray a, long aOff, int lda, INDArray b, long bOff, int ldb,
                       float beta, INDArray c, long cOff, int ldc) {
        if (!single) {
            gemm(false, transB, m, n, k, alpha, pointer(a, aOff), lda, pointer(b, bOff), ldb, beta, pointer(c, cOff), ldc);
            return;
        }
        FloatPointer bp = pointer(b, bOff);
        Kernels.parallel(m, 32, (r0, r1) -> gemm(false, transB, r1 - r0, n, k, alpha, pointer(a, aOff + (long) r0 * lda), lda, bp, ldb,
                beta, pointer(c, cOff + (long) r0 * ldc), ldc));
    }

    /** y[out] = x[in] @ W, with W row-major [in, out] at {@code w}. */
    static void xTimesW(FloatPointer x, FloatPointer w, int in, int out, FloatPointer y) {
        xTimesW(x, w, in, out, out, y);
    }

    /** y[out] = x[in] @ W for the first {@code out} columns of a row-major W whose rows are {@code ldw} long. */
    private static void xTimesW(FloatPointer x, FloatPointer w, int in, int out, int ldw, FloatPointer y) {
        openblas_nolapack.cblas_sgemv(ROW_MAJOR, TRANS, in, out, 1f, w, ldw, x, 1, 0f, y, 1);
    }

    /**
     * y[n, out] = x[n, in] @ W for a decoding step's few rows, W row-major [in, out]: one sgemv per row. With OpenBLAS
     * pinned to one thread and no other forward running, each row's outputs are split over the pool instead where that
     * keeps the bits of one call ({@link #SGEMV_BLOCK}): a lone question then still decodes on both cores, as OpenBLAS's
     * own threads did before pinning.
     */
    static void xTimesWRows(INDArray x, INDArray w, INDArray y) {
        int n = (int) x.size(0), in = (int) w.size(0), out = (int) w.size(1);
        if (!pinned || Kernels.crowded()) {
            FloatPointer xp = pointer(x, 0), wp = pointer(w, 0), yp = pointer(y, 0); // moved row by row: no object per row
            for (int r = 0; r < n; r++) xTimesW(xp.position((long) r * in), wp, in, out, yp.position((long) r * out));
            return;
        }
        for (int r = 0; r < n; r++) {
            long xOff = (long) r * in, yOff = (long) r * out;
            splitRows(out, (o0, o1) -> xTimesW(pointer(x, xOff), pointer(w, o0), in, o1 - o0, out, pointer(y, yOff + o0)));
        }
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

    /** y[rows] += alpha W @ x, with W row-major [rows, cols] at {@code w}. */
    static void wTimesXAdd(FloatPointer w, int rows, int cols, float alpha, FloatPointer x, FloatPointer y) {
        openblas_nolapack.cblas_sgemv(ROW_MAJOR, NO_TRANS, rows, cols, alpha, w, cols, x, 1, 1f, y, 1);
    }

    /** y[rows] = W @ x, with W row-major [rows, cols] at {@code w}. */
    static void wTimesX(FloatPointer w, int rows, int cols, FloatPointer x, FloatPointer y) {
        openblas_nolapack.cblas_sgemv(ROW_MAJOR, NO_TRANS, rows, cols, 1f, w, cols, x, 1, 0f, y, 1);
    }

    /**
     * y[rows] = W @ x for a dense row-major FLOAT W [rows, cols] and x [1, cols]: sgemv, its rows split over gpt4j's
     * threads while OpenBLAS runs single-threaded (an sgemm with one row would pack all of W first), unless OpenBLAS is
     * pinned and another forward runs (then the pool is not this forward's to take).
     */
    static void wTimesX(INDArray w, INDArray x, INDArray y) {
        int rows = (int) w.size(0), cols = (int) w.size(1);
        FloatPointer xp = pointer(x, 0);
        if (!single || pinned && Kernels.crowded()) {
            wTimesX(pointer(w, 0), rows, cols, xp, pointer(y, 0));
            return;
        }
        splitRows(rows, (r0, r1) -> wTimesX(pointer(w, (long) r0 * cols), r1 - r0, cols, xp, pointer(y, r0)));
    }

    /**
     * Output rows of an sgemv split over the pool with OpenBLAS pinned come in blocks of this many. An output's bits
     * from OpenBLAS's sgemv kernels can depend on where its call starts and how long it is; measured here, they do not
     * when both parts are a multiple of 64 rows long (1,024 and 8,192 rows split in two, any input length), and do for
     * other lengths (468, 701, 1,000, 50,257). So a pinned forward splits only such products; one that runs beside
     * another ({@link Kernels#crowded}) never splits, and the two must agree.
     */
    private static final int SGEMV_BLOCK = 64;

    /**
     * [0, rows) over {@link Kernels#parallel}: halves (as ever) while OpenBLAS is not pinned; pinned, parts that are
     * whole {@link #SGEMV_BLOCK}s (256 rows a part at least), or one part on this thread when rows are not a multiple.
     */
    private static void splitRows(int rows, Kernels.Range body) {
        if (!pinned) {
            Kernels.parallel(rows, 256, body);
        } else if (rows % SGEMV_BLOCK != 0) {
            body.run(0, rows);
        } else {
            Kernels.parallel(rows / SGEMV_BLOCK, 256 / SGEMV_BLOCK, (b0, b1) -> body.run(b0 * SGEMV_BLOCK, b1 * SGEMV_BLOCK));
        }
    }

    /**
     * y[n, rows] = x[n, cols] @ W^T as one {@link #wTimesX(INDArray, INDArray, INDArray)} per row of x: for a few rows,
     * cheaper than an sgemm (which packs all of W first), and each row's numbers are those it gets alone.
     */
    static void wTimesXRows(INDArray w, INDArray x, INDArray y) {
        int rows = (int) w.size(0), cols = (int) w.size(1), n = (int) x.size(0);
        if (!single || pinned && Kernels.crowded()) { // one pointer per array, moved row by row
            FloatPointer wp = pointer(w, 0), xp = pointer(x, 0), yp = pointer(y, 0);
            for (int r = 0; r < n; r++) wTimesX(wp, rows, cols, xp.position((long) r * cols), yp.position((long) r * rows));
            return;
        }
        for (int r = 0; r < n; r++) { // each row's sgemv split over the team (a part's pointers are its own)
            FloatPointer xp = pointer(x, (long) r * cols);
            long yOff = (long) r * rows;
            splitRows(rows, (r0, r1) -> wTimesX(pointer(w, (long) r0 * cols), r1 - r0, cols, xp, pointer(y, yOff + r0)));
        }
    }
}
