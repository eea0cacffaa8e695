package dev.gpt4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Softmax along the last axis, as ND4J's {@code softmax} and {@code softmax_bp} ops: what chapter 3 builds attention
 * from, and the {@link Compute#ND4J} path's attention weights. (The Java path's attention does its softmax row by row
 * on the causal triangle, in {@link Attention}.)
 */
public final class Softmax {
    private Softmax() {}

    /** out = softmax(x) along the last axis. */
    public static void forward(INDArray x, INDArray out) {
        Nd4j.exec(DynamicCustomOp.builder("softmax").addInputs(x).addOutputs(out).addIntegerArguments(-1).build());
    }

    /** dx = the softmax's Jacobian applied to dout, along the last axis (x is the softmax's input). */
    public static void backward(INDArray x, INDArray dout, INDArray dx) {
        Nd4j.exec(DynamicCustomOp.builder("softmax_bp").addInputs(x, dout).addOutputs(dx).addIntegerArguments(-1).build());
    }

    /** out = a @ b over the leading batch axes, with transpose flags on the last two axes; out overwritten. */
    static void batchedMatmul(INDArray a, INDArray b, INDArray out, boolean transA, boolean transB) {
        Nd4j.exec(DynamicCustomOp.builder("matmul").addInputs(a, b).addOutputs(out)
                .addIntegerArguments(transA ? 1 : 0, transB ? 1 : 0, 0).build());
    }
}
