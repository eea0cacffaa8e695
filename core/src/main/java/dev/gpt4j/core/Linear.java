package dev.gpt4j.core;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A linear layer, out[N, O] = x[N, I] @ w[I, O] + b[O], with its weight as Hugging Face's GPT-2 stores a Conv1D:
 * [in, out], so no transpose. Forward and backward side by side; on the {@link Compute#JAVA} path the products are
 * OpenBLAS calls ({@link Blas}: sgemv for one row, an sgemm split over gpt4j's threads for many) and the bias a Java
 * loop, on the {@link Compute#ND4J} path ND4J's gemm and row-vector ops.
 *
 * <p>An instance is one named layer of a model ({@code h.0.attn.c_attn}): views of its weight, bias and their
 * gradients in the flat {@link Parameters} buffers. Backward adds to the gradients ({@code +=}).
 */
public final class Linear {
    private final String name;
    private final Compute compute;
    private final INDArray w, b, dw, db;
    /** The weight's first element, for sgemv (made on first use: not every path needs one). */
    private FloatPointer wPointer;

    /** The layer {@code name} ({@code name.weight}, and {@code name.bias} when the model has biases) of {@code p}. */
    Linear(Parameters p, String name, boolean bias, Compute compute) {
        this.name = name;
        this.compute = compute;
        this.w = p.get(name + ".weight");
        this.dw = p.grad(name + ".weight");
        this.b = bias ? p.get(name + ".bias") : null;
        this.db = bias ? p.grad(name + ".bias") : null;
    }

    String name() {
        return name;
    }

    /** out[N, O] = x[N, I] @ w + b, out overwritten. */
    void forward(INDArray x, INDArray out) {
        if (compute == Compute.JAVA && x.size(0) == 1 && Blas.oneRowProducts()) {
            if (wPointer == null) wPointer = Blas.pointer(w, 0);
            Blas.xTimesW(Blas.pointer(x, 0), wPointer, (int) w.size(0), (int) w.size(1), Blas.pointer(out, 0));
            if (b != null) Kernels.addRowVector(out, b);
            return;
        }
        forward(compute, x, w, b, out);
    }

    /**
     * dx[N, I] = dout @ w^T (overwritten, or added to when {@code accumulateDx}; none when dx is null);
     * dw += x^T @ dout; db += the column sums of dout.
     */
    void backward(INDArray dout, INDArray x, INDArray dx, boolean accumulateDx) {
        backward(compute, dout, x, w, dx, dw, db, accumulateDx);
    }

    /** out[N, O] = x[N, I] @ w[I, O] (+ b[O]) for any arrays: the layer as a function. */
    public static void forward(Compute compute, INDArray x, INDArray w, INDArray b, INDArray out) {
        if (compute == Compute.JAVA) Blas.gemm(false, false, 1.0, x, w, 0.0, out);
        else Nd4j.gemm(x, w, out, false, false, 1.0, 0.0);
        if (b != null) addRowVector(compute, out, b);
    }

    /** The backward of {@link #forward(Compute, INDArray, INDArray, INDArray, INDArray)}, as the instance's. */
    public static void backward(Compute compute, INDArray dout, INDArray x, INDArray w, INDArray dx, INDArray dw, INDArray db,
                                boolean accumulateDx) {
        if (compute == Compute.JAVA) {
            if (dx != null) Blas.gemm(false, true, 1.0, dout, w, accumulateDx ? 1.0 : 0.0, dx);
            Blas.gemm(true, false, 1.0, x, dout, 1.0, dw);
        } else {
            if (dx != null) Nd4j.gemm(dout, w, dx, false, true, 1.0, accumulateDx ? 1.0 : 0.0);
            Nd4j.gemm(x, dout, dw, true, false, 1.0, 1.0);
        }
        if (db != null) addColumnSums(compute, dout, db);
    }

    // ------------------------------------------------------------------------------------------ bias

    /** x[N, C] += v[C] on every row. */
    static void addRowVector(Compute compute, INDArray x, INDArray v) {
        if (compute == Compute.JAVA) Kernels.addRowVector(x, v);
        else x.addiRowVector(v);
    }

    private static final Map<String, INDArray> ONES = new ConcurrentHashMap<>();

    /**
     * target[C] += the sum over the rows of x[N, C]: on the Java path by {@link Kernels#addColumnSums}, otherwise as one
     * BLAS product with a vector of ones. ND4J's own reduction over the rows gives results that depend on how many
     * threads it gets (and it gets fewer when its pool is busy), which broke bit-exact resume once in a while; both ways
     * here sum each column in one thread, so the result is the same run after run.
     */
    static void addColumnSums(Compute compute, INDArray x, INDArray target) {
        if (compute == Compute.JAVA) {
            // not ND4J's gemm: an sgemm with M = 1 packs all of x first, and cost 6-13x more here
            Kernels.addColumnSums(x, target);
        } else {
            long n = x.size(0);
            INDArray ones = ONES.computeIfAbsent(x.dataType() + ":" + n, k -> Nd4j.ones(x.dataType(), 1, n));
            Nd4j.gemm(ones, x, target.reshape('c', 1, target.length()), false, false, 1.0, 1.0);
        }
    }

    @Override
    public String toString() {
        return "Linear[" + name + ", " + w.size(0) + " -> " + w.size(1) + (b == null ? ", no bias" : "") + "]";
    }
}
