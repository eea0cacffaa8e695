package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * The attention sub-layer of a GPT-2 block on its own (Raschka ch. 3's {@code MultiHeadAttention}, nanoGPT's
 * {@code CausalSelfAttention}): qkv = x W_attn + b_attn; per head, y_h = softmax(q_h k_h^T / sqrt(hs) + causal mask)
 * v_h, with attention dropout on the probabilities; out = y W_proj + b_proj, with dropout on out. Forward and
 * backward, built from the layers {@link GptModel} runs in each block ({@link Linear}, {@link Attention},
 * {@link Dropout}).
 *
 * <p>Its weights are in {@link #params()} under GPT-2's names inside a block ({@code c_attn.weight} [C, 3C],
 * {@code c_attn.bias} [3C], {@code c_proj.weight} [C, C], {@code c_proj.bias} [C]), with GPT-2's initialisation,
 * so {@link AdamW} trains it as it trains a model. Used alone in the chapter 3 notebook and in the attention
 * benchmark. Not thread-safe; one forward then one backward at a time.
 *
 * <pre>{@code
 * var att = new CausalSelfAttention(64, 4, 0.0, true, DataType.FLOAT, 42);
 * INDArray out = att.forward(x, B, T);      // x [B*T, 64]
 * INDArray dx = att.backward(dout);         // adds to att.params().grads()
 * }</pre>
 */
public final class CausalSelfAttention {
    private final int C, H;
    private final double dropout;
    private final boolean bias;
    private final DataType dtype;
    private final Compute compute;
    private final long seed;
    private final Parameters params;
    private final Linear attn, proj;
    /** The arrays of the last forward's (B, T); another shape replaces them. */
    private Buffers last;
    private boolean training = true;
    private long dropoutStep;
    private final Dropout.Draws draws = new Dropout.Draws();

    /**
     * @param embedDim C, a multiple of {@code heads}
     * @param dropout  on the attention probabilities and on the output, in training mode; 0 for none
     * @param bias     whether the two projections have biases
     * @param dtype    FLOAT, or DOUBLE (slower; for gradient checks)
     * @param seed     the initial weights (normal 0.02; c_proj scaled as for a one-layer model, 0.02 / sqrt(2)) and
     *                 the dropout masks
     */
    public CausalSelfAttention(int embedDim, int heads, double dropout, boolean bias, DataType dtype, long seed) {
        if (heads <= 0 || embedDim <= 0 || embedDim % heads != 0) {
            throw new IllegalArgumentException("embedDim " + embedDim + " must be a positive multiple of heads " + heads);
        }
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("dropout must be in [0, 1), not " + dropout);
        if (dtype != DataType.FLOAT && dtype != DataType.DOUBLE) throw new IllegalArgumentException("dtype must be FLOAT or DOUBLE, not " + dtype);
        this.C = embedDim;
        this.H = heads;
        this.dropout = dropout;
        this.bias = bias;
        this.dtype = dtype;
        this.compute = Compute.choose(dtype);
        this.seed = seed;
        this.params = new Parameters(layout(embedDim, bias), dtype);
        this.attn = new Linear(params, "c_attn", bias, compute);
        this.proj = new Linear(params, "c_proj", bias, compute);
        Random init = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        for (Parameters.Slot s : params.slots()) {
            if (s.shape().length != 2) continue; // biases start at 0
            INDArray tmp = Nd4j.create(dtype, s.shape());
            double std = s.name().equals("c_proj.weight") ? 0.02 / Math.sqrt(2) : 0.02;
            Nd4j.getExecutioner().exec(new GaussianDistribution(tmp, 0.0, std), init);
            params.get(s.name()).assign(tmp);
        }
    }

    private static List<Parameters.Slot> layout(int C, boolean bias) {
        Parameters.Layout s = new Parameters.Layout();
        s.add("c_attn.weight", C, 3L * C);
        if (bias) s.add("c_attn.bias", 3L * C);
        s.add("c_proj.weight", C, C);
        if (bias) s.add("c_proj.bias", C);
        return s.slots();
    }

    /** The weights and their gradients (one flat buffer each). */
    public Parameters params() {
        return params;
    }

    public int embedDim() {
        return C;
    }

    public int heads() {
        return H;
    }

    /** Training mode: dropout on (when the block has it). The default. */
    public CausalSelfAttention train() {
        training = true;
        return this;
    }

    /** Evaluation mode: no dropout. */
    public CausalSelfAttention eval() {
        training = false;
        return this;
    }

    /** The dropout masks of the next forward are drawn from (seed, step): the same step gives the same masks. */
    public void setDropoutStep(long step) {
        dropoutStep = step;
    }

    /** Zeroes the gradients. */
    public void zeroGrad() {
        params.grads().assign(0);
    }

    /**
     * out = attention(x) for x [B*T, C] (B sequences of T positions, row-major), kept for {@link #backward}. The
     * returned array is this block's buffer: the next forward overwrites it. The buffers are made for a (B, T) and
     * kept while forward gets the same shape.
     */
    public INDArray forward(INDArray x, int B, int T) {
        if (B <= 0 || T <= 0) throw new IllegalArgumentException("batch and sequence length must be positive, not " + B + "x" + T);
        if (x.rank() != 2 || x.size(0) != (long) B * T || x.size(1) != C) {
            throw new IllegalArgumentException("x must be [B*T, C] = [" + (long) B * T + ", " + C + "], not " + java.util.Arrays.toString(x.shape()));
        }
        if (x.dataType() != dtype) throw new IllegalArgumentException("x is " + x.dataType() + ", the block " + dtype);
        if (last == null || last.B != B || last.T != T) last = new Buffers(B, T);
        Buffers b = last;
        Blas.forTraining();
        b.drop = training && dropout > 0;
        if (b.drop) {
            draws.reset(seed * 1_000_003L + dropoutStep);
        }
        b.x.assign(x);
        attn.forward(b.x, b.qkv);
        Attention.forward(compute, b.qkv, b.y, b.rows, H, null, 0, b.saved, b.drop, (a, mask) -> Dropout.forward(compute, a, mask, dropout, draws));
        proj.forward(b.y, b.out);
        if (b.drop) Dropout.forward(compute, b.out, b.outMask, dropout, draws);
        return b.out;
    }

    /**
     * dx [B*T, C] for dout [B*T, C] = the gradient of a loss at the last forward's output; adds the weights'
     * gradients to {@link Parameters#grads()}. The returned array is this block's buffer, like forward's.
     */
    public INDArray backward(INDArray dout) {
        Buffers b = last;
        if (b == null) throw new IllegalStateException("backward() needs a forward() first");
        if (dout.rank() != 2 || dout.size(0) != b.x.size(0) || dout.size(1) != C) {
            throw new IllegalArgumentException("dout must be [" + b.x.size(0) + ", " + C + "], not " + java.util.Arrays.toString(dout.shape()));
        }
        Blas.forTraining();
        INDArray d = b.dout.assign(dout);
        if (b.drop) d.muli(b.outMask);
        proj.backward(d, b.y, b.dy, false);
        Attention.backward(compute, b.qkv, b.dy, b.rows, H, b.saved, b.drop, b.dqkv);
        attn.backward(b.dqkv, b.x, b.dx, false);
        return b.dx;
    }

    @Override
    public String toString() {
        return "CausalSelfAttention[C=" + C + ", H=" + H + ", dropout=" + dropout + ", bias=" + bias + ", " + dtype + ", "
                + params.size() + " parameters]";
    }

    /** The arrays of one (B, T) shape. */
    private final class Buffers {
        final int B, T;
        final INDArray x, qkv, y, out, outMask, dout, dy, dqkv, dx;
        final Attention.Rows rows;
        final Attention.Saved saved;
        boolean drop;

        Buffers(int B, int T) {
            this.B = B;
            this.T = T;
            long BT = (long) B * T;
            x = Nd4j.create(dtype, BT, C);
            qkv = Nd4j.create(dtype, BT, 3L * C);
            y = Nd4j.create(dtype, BT, C);
            out = Nd4j.create(dtype, BT, C);
            outMask = dropout > 0 ? Nd4j.create(dtype, BT, C) : null;
            dout = Nd4j.create(dtype, BT, C);
            dy = Nd4j.create(dtype, BT, C);
            dqkv = Nd4j.create(dtype, BT, 3L * C);
            dx = Nd4j.create(dtype, BT, C);
            rows = Attention.Rows.batch(B, T);
            saved = new Attention.Saved(compute, qkv, y, B, T, H, dropout > 0);
        }
    }
}
