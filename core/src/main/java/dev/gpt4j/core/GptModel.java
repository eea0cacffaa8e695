package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.reduce.same.Max;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;


/**
 * A GPT-2-family decoder-only transformer (Raschka ch. 4) with an explicit backward pass:
 * <pre>
 * tokens[B,T] → wte + wpe → L × [x += drop(attn(ln_1(x))); x += drop(mlp(ln_2(x)))] → ln_f → logits = x wte^T
 * </pre>
 * Parameters and gradients live in one flat buffer each ({@link Parameters}). Activations are allocated once
 * for a (B, T) shape and reused, so steady-state steps allocate no new tensor memory.
 *
 * <pre>{@code
 * var model = GptModel.create(GptConfig.tiny(), 42);
 * double loss = model.forward(tokens, targets, 8, 128);   // B=8, T=128, flat int arrays of B*T
 * model.zeroGrad(); model.backward();                     // gradients in model.params().grads()
 * }</pre>
 *
 * Not thread-safe: one forward/backward at a time. Close it to free its native memory early.
 */
public final class GptModel implements AutoCloseable {
    /** Targets equal to this are ignored by the loss (as PyTorch's cross-entropy ignore_index). */
    public static final int IGNORE = -100;

    private final GptConfig config;
    private final DataType dtype;
    private final Parameters params;
    private long seed;
    private boolean training = true;
    private long dropoutStep;
    private Activations acts;
    /** Activations by (B, T), least recently used first: batches of a few lengths each keep their buffers. */
    private final java.util.LinkedHashMap<Long, Activations> shapes = new java.util.LinkedHashMap<>();
    private int maxShapes = 1;
    private Random dropoutRng;

    private GptModel(GptConfig config, DataType dtype, long seed) {
        this.config = config;
        this.dtype = dtype;
        this.seed = seed;
        this.params = new Parameters(config, dtype);
    }

    /** A model with GPT-2's initialisation drawn from {@code seed}, in float32. */
    public static GptModel create(GptConfig config, long seed) {
        return create(config, seed, DataType.FLOAT);
    }

    /** A model with GPT-2's initialisation drawn from {@code seed}, in FLOAT or DOUBLE. */
    public static GptModel create(GptConfig config, long seed, DataType dtype) {
        if (dtype != DataType.FLOAT && dtype != DataType.DOUBLE) throw new IllegalArgumentException("dtype must be FLOAT or DOUBLE");
        GptModel m = new GptModel(config, dtype, seed);
        m.initialize(seed);
        return m;
    }

    /** A model whose weights are all zero (to be filled, e.g. by a checkpoint reader). */
    static GptModel empty(GptConfig config, DataType dtype, long seed) {
        return new GptModel(config, dtype, seed);
    }

    /**
     * GPT-2's initialisation: 2-D weights ~ N(0, 0.02), the residual projections (attn.c_proj, mlp.c_proj) ~
     * N(0, 0.02 / sqrt(2 L)), biases 0, LayerNorm weights 1.
     */
    private void initialize(long seed) {
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        {
            for (Parameters.Slot s : params.slots()) {
                INDArray v = params.get(s.name());
                if (s.name().contains("ln_") && s.name().endsWith(".weight")) {
                    v.assign(1);
                } else if (s.shape().length == 2) {
                    double std = s.name().endsWith("c_proj.weight") ? 0.02 / Math.sqrt(2.0 * config.layers()) : 0.02;
                    INDArray tmp = Nd4j.create(dtype, s.shape());
                    Nd4j.getExecutioner().exec(new GaussianDistribution(tmp, 0.0, std), rng);
                    v.assign(tmp);
                } else {
                    v.assign(0);
                }
            }
        }
    }

    public GptConfig config() {
        return config;
    }

    public Parameters params() {
        return params;
    }

    public DataType dataType() {
        return dtype;
    }

    /** Training mode: dropout on (if the config has any). */
    public GptModel train() {
        training = true;
        return this;
    }

    /** Evaluation mode: dropout off. */
    public GptModel eval() {
        training = false;
        return this;
    }

    public boolean isTraining() {
        return training;
    }

    /**
     * Dropout masks of a forward pass are drawn from (seed, step), so a step recomputed, or a run resumed at that
     * step, draws the same masks. A trainer sets the step; by default it is 0.
     */
    public void setDropoutStep(long step) {
        this.dropoutStep = step;
    }

    /**
     * The seed of the dropout masks (by default the seed the model was created with; 0 for a loaded model).
     * A trainer sets it from its config, so that a run resumed from a checkpoint draws the same masks.
     */
    public void setDropoutSeed(long seed) {
        this.seed = seed;
    }

    public long dropoutStep() {
        return dropoutStep;
    }

    /**
     * How many (batch, length) shapes keep their activation buffers (default 1). Training on batches of a few
     * bucketed lengths (fine-tuning) avoids reallocating buffers on every change of shape by keeping each.
     */
    public GptModel keepActivationShapes(int n) {
        if (n <= 0) throw new IllegalArgumentException("must keep at least one shape, not " + n);
        maxShapes = n;
        while (shapes.size() > n) shapes.remove(shapes.keySet().iterator().next());
        return this;
    }

    /** Sets every gradient to zero. */
    public void zeroGrad() {
        params.grads().assign(0);
    }

    // ------------------------------------------------------------------------------------------ activations

    /** Every array one forward/backward of a (B, T) shape needs; allocated once per shape. */
    private final class Activations {
        final int B, T, BT, C, H, hs, V;
        final INDArray idx;     // token ids [BT] (INT)
        final INDArray emb;     // [BT, C] embedding output = input of layer 0
        final INDArray[] x, ln1, ln1Hat, ln1Rstd, qkv, y, attnOut, xa, ln2, ln2Hat, ln2Rstd, fc, th, g, proj, mask1, mask2;
        final AttentionCore[] att;
        final AttentionCore.Scratch attScratch;
        final INDArray xL, lnf, lnfHat, lnfRstd, logits, probs, rowMax, rowSum, embMask;
        // backward scratch
        final INDArray dres, dbuf, dtmp, dtmp2, dln, d4a, d4b, dqkv, dy;
        final INDArray rowTmp, mean;
        // the rows that carry loss, packed (fine-tuning puts loss on the SQL only): the LM head and the
        // cross-entropy run on these R rows instead of all BT
        final INDArray selIn, selD;
        final int[] selRows;
        final float[] packedW;
        final int[] packedTargets;
        int R;
        private final java.util.Map<Integer, INDArray[]> firstRows = new java.util.HashMap<>();
        final float[] weights;
        final INDArray weightArr; // the weights above, normalised, on the native side
        int[] tokens;
        final long[] order;
        final double[] embSrc, embAcc;
        final int[] uniqueTokens;
        int[] targets;
        double weightSum;
        final INDArray wpeRow, dwpeFlat, embRowsBT, dresRowsBT;

        Activations(int B, int T) {
            this.B = B;
            this.T = T;
            this.BT = B * T;
            this.C = config.embedDim();
            this.H = config.heads();
            this.hs = config.headDim();
            this.V = config.vocabSize();
            int L = config.layers();
            boolean drop = config.dropout() > 0;
            idx = Nd4j.create(DataType.INT, BT);
            emb = mk(BT, C);
            x = new INDArray[L + 1];
            ln1 = new INDArray[L]; ln1Hat = new INDArray[L]; ln1Rstd = new INDArray[L];
            qkv = new INDArray[L]; att = new AttentionCore[L];
            y = new INDArray[L]; attnOut = new INDArray[L]; xa = new INDArray[L];
            ln2 = new INDArray[L]; ln2Hat = new INDArray[L]; ln2Rstd = new INDArray[L];
            fc = new INDArray[L]; th = new INDArray[L]; g = new INDArray[L]; proj = new INDArray[L];
            mask1 = new INDArray[L]; mask2 = new INDArray[L];
            x[0] = emb;
            for (int l = 0; l < L; l++) {
                ln1[l] = mk(BT, C); ln1Hat[l] = mk(BT, C); ln1Rstd[l] = mk(BT);
                qkv[l] = mk(BT, 3 * C);
                y[l] = mk(BT, C);
                att[l] = new AttentionCore(qkv[l], y[l], B, T, H, drop);
                attnOut[l] = mk(BT, C); xa[l] = mk(BT, C);
                ln2[l] = mk(BT, C); ln2Hat[l] = mk(BT, C); ln2Rstd[l] = mk(BT);
                fc[l] = mk(BT, 4 * C); th[l] = mk(BT, 4 * C); g[l] = mk(BT, 4 * C); proj[l] = mk(BT, C);
                mask1[l] = drop ? mk(BT, C) : null;
                mask2[l] = drop ? mk(BT, C) : null;
                x[l + 1] = mk(BT, C);
            }
            embMask = drop ? mk(BT, C) : null;
            xL = x[L];
            lnf = mk(BT, C); lnfHat = mk(BT, C); lnfRstd = mk(BT);
            logits = mk(BT, V); probs = mk(BT, V); rowMax = mk(BT); rowSum = mk(BT);
            dres = mk(BT, C); dbuf = mk(BT, C); dtmp = mk(BT, C); dtmp2 = mk(BT, C); dln = mk(BT, C);
            d4a = mk(BT, 4 * C); d4b = mk(BT, 4 * C); dqkv = mk(BT, 3 * C); dy = mk(BT, C);
            attScratch = new AttentionCore.Scratch(B, T, C, H, dtype);
            rowTmp = mk(BT); mean = mk(BT);
            selIn = mk(BT, C); selD = mk(BT, C);
            selRows = new int[BT];
            packedW = new float[BT];
            packedTargets = new int[BT];
            weights = new float[BT];
            weightArr = mk(BT);
            order = new long[BT];
            embSrc = new double[BT * C];
            embAcc = new double[BT * C];
            uniqueTokens = new int[BT];
            // Views, made once: a view made in every step costs native shape buffers every step.
            long TC = (long) T * C;
            wpeRow = params.get("wpe.weight").get(NDArrayIndex.interval(0, T), NDArrayIndex.all()).reshape('c', 1, TC);
            dwpeFlat = params.grad("wpe.weight").get(NDArrayIndex.interval(0, T), NDArrayIndex.all()).reshape('c', 1, TC).reshape(TC);
            embRowsBT = emb.reshape('c', B, TC);
            dresRowsBT = dres.reshape('c', B, TC);
        }

        private INDArray mk(long... shape) {
            return Nd4j.create(dtype, shape);
        }

        /**
         * The first R rows of selIn, selD, logits, probs, rowMax, rowSum, weightArr, made once per R (R = BT:
         * the whole buffers). At most BT entries of a few array headers each.
         */
        INDArray[] firstRows(int R) {
            // arrays over the start of the same buffers, not views: ND4J takes slower paths for views
            return firstRows.computeIfAbsent(R, r -> new INDArray[] {
                    Nd4j.create(selIn.data(), r, C), Nd4j.create(selD.data(), r, C),
                    Nd4j.create(logits.data(), r, V), Nd4j.create(probs.data(), r, V),
                    Nd4j.create(rowMax.data(), r), Nd4j.create(rowSum.data(), r), Nd4j.create(weightArr.data(), r)});
        }
    }

    private Activations activations(int B, int T) {
        if (T > config.contextLength()) {
            throw new IllegalArgumentException("sequence length " + T + " exceeds the context length " + config.contextLength());
        }
        if (B <= 0 || T <= 0) throw new IllegalArgumentException("batch and sequence length must be positive, not " + B + "x" + T);
        if (acts == null || acts.B != B || acts.T != T) {
            long key = (long) B << 32 | T;
            Activations cached = shapes.remove(key);
            if (cached == null && shapes.size() >= maxShapes) {
                Long eldest = shapes.keySet().iterator().next();
                shapes.remove(eldest); // let the least recently used go before allocating new ones
            }
            acts = cached != null ? cached : new Activations(B, T);
            shapes.put(key, acts);
        }
        return acts;
    }

    // ------------------------------------------------------------------------------------------ forward

    /**
     * Runs the model on {@code tokens} (B*T ids, row-major [B, T]) and returns the mean cross-entropy against
     * {@code targets} (B*T ids; {@link #IGNORE} entries are not counted). Keeps what backward needs.
     */
    public double forward(int[] tokens, int[] targets, int B, int T) {
        return forward(tokens, targets, null, B, T);
    }

    /**
     * As {@link #forward(int[], int[], int, int)}, with a per-token loss weight (e.g. 1 on SQL tokens, 0 on
     * the prompt); the loss is sum(w * nll) / sum(w).
     */
    public double forward(int[] tokens, int[] targets, float[] weights, int B, int T) {
        if (targets == null || targets.length != B * T) throw new IllegalArgumentException("need B*T = " + B * T + " targets");
        body(tokens, B, T);
        return loss(targets, weights);
    }

    /** Runs the model and returns the logits [B*T, V] (a buffer the next call overwrites). */
    public INDArray logits(int[] tokens, int B, int T) {
        Activations a = body(tokens, B, T);
        Blas.gemm(false, true, 1.0, a.lnf, head(), 0.0, a.logits);
        return a.logits;
    }

    /** Everything up to the final LayerNorm (lnf); the LM head is left to the caller. */
    private Activations body(int[] tokens, int B, int T) {
        Activations a = activations(B, T);
        if (tokens.length != a.BT) throw new IllegalArgumentException("need B*T = " + a.BT + " tokens, got " + tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at position " + i + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
        Blas.forTraining();
        a.targets = null;
        a.idx.data().setData(tokens);
        a.tokens = tokens.clone();
        boolean drop = training && config.dropout() > 0;
        if (drop) {
            if (dropoutRng == null) dropoutRng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
            dropoutRng.setSeed(seed * 1_000_003L + dropoutStep);
        }
        forwardPass(a, drop, dropoutRng);
        return a;
    }

    private void forwardPass(Activations a, boolean drop, Random rng) {
        int C = a.C, L = config.layers();
        double eps = config.layerNormEps();
        // embeddings: emb = wte[idx] + wpe[0..T)
        Nd4j.exec(DynamicCustomOp.builder("gather").addInputs(params.get("wte.weight"), a.idx).addOutputs(a.emb)
                .addIntegerArguments(0).build());
        Layers.addRowVector(a.embRowsBT, a.wpeRow);
        if (drop) dropout(a.emb, a.embMask, rng);
        for (int l = 0; l < L; l++) {
            String h = "h." + l + ".";
            Layers.layerNormForward(a.x[l], p(h + "ln_1.weight"), pb(h + "ln_1.bias"), eps, a.ln1[l], a.ln1Hat[l], a.mean, a.ln1Rstd[l]);
            Layers.linearForward(a.ln1[l], p(h + "attn.c_attn.weight"), pb(h + "attn.c_attn.bias"), a.qkv[l]);
            a.att[l].forward(drop, (x, mask) -> dropout(x, mask, rng));
            Layers.linearForward(a.y[l], p(h + "attn.c_proj.weight"), pb(h + "attn.c_proj.bias"), a.attnOut[l]);
            if (drop) dropout(a.attnOut[l], a.mask1[l], rng);
            Layers.add(a.x[l], a.attnOut[l], a.xa[l]);
            Layers.layerNormForward(a.xa[l], p(h + "ln_2.weight"), pb(h + "ln_2.bias"), eps, a.ln2[l], a.ln2Hat[l], a.mean, a.ln2Rstd[l]);
            Layers.linearForward(a.ln2[l], p(h + "mlp.c_fc.weight"), pb(h + "mlp.c_fc.bias"), a.fc[l]);
            Layers.geluForward(a.fc[l], a.g[l], a.th[l]);
            Layers.linearForward(a.g[l], p(h + "mlp.c_proj.weight"), pb(h + "mlp.c_proj.bias"), a.proj[l]);
            if (drop) dropout(a.proj[l], a.mask2[l], rng);
            Layers.add(a.xa[l], a.proj[l], a.x[l + 1]);
        }
        Layers.layerNormForward(a.xL, p("ln_f.weight"), pb("ln_f.bias"), eps, a.lnf, a.lnfHat, a.mean, a.lnfRstd);
    }

    /** In place: x *= mask, with mask = (u >= p) / (1 - p) for u ~ U[0, 1), saved for backward. */
    private void dropout(INDArray x, INDArray mask, Random rng) {
        Layers.dropout(x, mask, config.dropout(), rng);
    }

    /**
     * The LM head and the cross-entropy, on the rows with a non-zero weight only: a fine-tuning batch with loss
     * on the SQL alone skips most of the head's [BT, V] work. Rows without loss get no logits.
     */
    private double loss(int[] targets, float[] weights) {
        Activations a = acts;
        double wsum = 0;
        int R = 0;
        for (int i = 0; i < a.BT; i++) {
            int t = targets[i];
            float w = t == IGNORE ? 0f : weights == null ? 1f : weights[i];
            if (t != IGNORE && (t < 0 || t >= a.V)) {
                throw new IllegalArgumentException("target " + t + " at position " + i + " is outside the vocabulary [0, " + a.V + ")");
            }
            if (!(w >= 0) || Float.isInfinite(w)) throw new IllegalArgumentException("loss weight " + w + " at position " + i);
            a.weights[i] = w;
            wsum += w;
            if (w != 0) a.selRows[R++] = i;
        }
        a.targets = targets.clone();
        a.weightSum = wsum;
        a.R = R;
        if (R == 0) return 0.0;
        INDArray[] v = a.firstRows(R);
        INDArray logits = v[2], probs = v[3], rowMax = v[4], rowSum = v[5];
        Blas.gemm(false, true, 1.0, headInput(a, v), head(), 0.0, logits);
        // log-sum-exp per row, stably: probs = exp(logits - max); lse = max + log(sum)
        if (Kernels.fits(logits, probs, rowMax, rowSum)) {
            Kernels.softmaxRows(logits, probs, rowMax, rowSum);
        } else {
            Nd4j.getExecutioner().exec(new Max(logits, rowMax, 1));
            probs.assign(logits).subiColumnVector(rowMax);
            Transforms.exp(probs, false);
            probs.sum(rowSum, 1);
        }
        double total = 0;
        for (int r = 0; r < R; r++) {
            int i = a.selRows[r];
            double lse = rowMax.getDouble(r) + Math.log(rowSum.getDouble(r));
            total += a.weights[i] * (lse - logits.getDouble(r, targets[i]));
        }
        return total / wsum;
    }

    /** The rows of lnf that carry loss, packed: lnf itself when every row does, else selIn (filled here). */
    private INDArray headInput(Activations a, INDArray[] v) {
        if (a.R == a.BT) return a.lnf;
        copyRows(a.lnf, a.selRows, a.selIn, null, a.R, a.C);
        return v[0];
    }

    /**
     * Row copies between [*, C] arrays of this model's dtype: dst row (dstRows == null ? k : dstRows[k]) =
     * src row (srcRows == null ? k : srcRows[k]), for k &lt; n. Plain Java on the native buffers.
     */
    private void copyRows(INDArray src, int[] srcRows, INDArray dst, int[] dstRows, int n, int C) {
        java.nio.ByteBuffer sb = src.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        java.nio.ByteBuffer db = dst.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        if (dtype == DataType.DOUBLE) {
            java.nio.DoubleBuffer s = sb.asDoubleBuffer(), d = db.asDoubleBuffer();
            for (int k = 0; k < n; k++) d.put((dstRows == null ? k : dstRows[k]) * C, s, (srcRows == null ? k : srcRows[k]) * C, C);
        } else {
            java.nio.FloatBuffer s = sb.asFloatBuffer(), d = db.asFloatBuffer();
            for (int k = 0; k < n; k++) d.put((dstRows == null ? k : dstRows[k]) * C, s, (srcRows == null ? k : srcRows[k]) * C, C);
        }
    }

    // ------------------------------------------------------------------------------------------ backward

    /** Adds the gradient of the last forward's loss to {@link Parameters#grads()}. */
    public void backward() {
        Activations a = acts;
        if (a == null || a.targets == null) throw new IllegalStateException("backward() needs a forward() with targets first");
        int L = config.layers();
        boolean drop = training && config.dropout() > 0;
        if (a.weightSum == 0) return;
        Blas.forTraining();
        // dlogits = (softmax - onehot) * w / sum(w), in the probs buffer, on the R rows with loss
        int R = a.R;
        boolean dense = R == a.BT;
        INDArray[] v = a.firstRows(R);
        INDArray probs = v[3];
        for (int r = 0; r < R; r++) {
            int i = a.selRows[r];
            a.packedW[r] = (float) (a.weights[i] / a.weightSum);
            a.packedTargets[r] = a.targets[i];
        }
        if (Kernels.fits(probs, v[5])) {
            Kernels.crossEntropyBackward(probs, v[5], a.packedTargets, a.packedW);
        } else {
            probs.diviColumnVector(v[5]);
            for (int r = 0; r < R; r++) probs.putScalar(r, a.packedTargets[r], probs.getDouble(r, a.packedTargets[r]) - 1.0);
            a.weightArr.data().setData(a.packedW);
            probs.muliColumnVector(v[6]);
        }
        INDArray dlogits = probs;
        // logits = lnf[rows] @ head^T; rows without loss have no gradient
        Blas.gemm(false, false, 1.0, dlogits, head(), 0.0, dense ? a.dln : v[1]);
        if (!dense) {
            a.dln.assign(0);
            copyRows(a.selD, null, a.dln, a.selRows, R, a.C);
        }
        Blas.gemm(true, false, 1.0, dlogits, dense ? a.lnf : v[0], 1.0, headGrad());
        Layers.layerNormBackward(a.dln, a.lnfHat, a.lnfRstd, p("ln_f.weight"), a.dres, gr("ln_f.weight"), grb("ln_f.bias"),
                a.dtmp, a.dtmp2, a.rowTmp, false);
        for (int l = L - 1; l >= 0; l--) {
            String h = "h." + l + ".";
            // x[l+1] = xa + drop(proj(gelu(fc(ln_2(xa)))))
            INDArray dproj = a.dres;
            if (drop) dproj = a.dbuf.assign(a.dres).muli(a.mask2[l]);
            Layers.linearBackward(dproj, a.g[l], p(h + "mlp.c_proj.weight"), a.d4a, gr(h + "mlp.c_proj.weight"),
                    grb(h + "mlp.c_proj.bias"), false);
            // g[l] served its last use in c_proj's weight gradient just above: it is the scratch here
            Layers.geluBackward(a.d4a, a.fc[l], a.th[l], a.d4b, a.g[l]);
            Layers.linearBackward(a.d4b, a.ln2[l], p(h + "mlp.c_fc.weight"), a.dln, gr(h + "mlp.c_fc.weight"),
                    grb(h + "mlp.c_fc.bias"), false);
            Layers.layerNormBackward(a.dln, a.ln2Hat[l], a.ln2Rstd[l], p(h + "ln_2.weight"), a.dres, gr(h + "ln_2.weight"),
                    grb(h + "ln_2.bias"), a.dtmp, a.dtmp2, a.rowTmp, true);
            // xa = x[l] + drop(c_proj(attn(c_attn(ln_1(x[l])))))
            INDArray dattnOut = a.dres;
            if (drop) dattnOut = a.dbuf.assign(a.dres).muli(a.mask1[l]);
            Layers.linearBackward(dattnOut, a.y[l], p(h + "attn.c_proj.weight"), a.dy, gr(h + "attn.c_proj.weight"),
                    grb(h + "attn.c_proj.bias"), false);
            a.att[l].backward(a.dy, drop, a.attScratch, a.dqkv);
            Layers.linearBackward(a.dqkv, a.ln1[l], p(h + "attn.c_attn.weight"), a.dln, gr(h + "attn.c_attn.weight"),
                    grb(h + "attn.c_attn.bias"), false);
            Layers.layerNormBackward(a.dln, a.ln1Hat[l], a.ln1Rstd[l], p(h + "ln_1.weight"), a.dres, gr(h + "ln_1.weight"),
                    grb(h + "ln_1.bias"), a.dtmp, a.dtmp2, a.rowTmp, true);
        }
        // embeddings
        INDArray demb = a.dres;
        if (drop) demb.muli(a.embMask);
        embeddingBackward(a, demb);
        Layers.addColumnSums(a.dresRowsBT, a.dwpeFlat);
    }

    /**
     * dwte[token] += sum of the rows of demb at that token's positions: each token's rows are summed in Java, in
     * double and in position order, and the sum is added to its gradient row once. Not ND4J's scatter_add: its
     * threads sum the rows of a repeated token in a varying order, and they do not lock a row they update, so two
     * threads adding to the same row can lose one of the two updates. An earlier version passed distinct ids but
     * padded them with zero rows on id 0; those raced with token 0's real row and lost its gradient in about 0.3%
     * of the calls (a kill -9 resume test caught it in CI as a difference in wte[0][0]).
     */
    private void embeddingBackward(Activations a, INDArray demb) {
        int BT = a.BT, C = a.C;
        int[] tokens = a.tokens;
        long[] order = a.order; // (token << 32 | position), sorted: by token, then by position
        for (int i = 0; i < BT; i++) order[i] = ((long) tokens[i] << 32) | i;
        java.util.Arrays.sort(order, 0, BT);
        java.nio.ByteBuffer in = demb.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        double[] src = a.embSrc, acc = a.embAcc;
        if (dtype == DataType.DOUBLE) in.asDoubleBuffer().get(src, 0, BT * C);
        else {
            java.nio.FloatBuffer fb = in.asFloatBuffer();
            for (int i = 0; i < BT * C; i++) src[i] = fb.get(i);
        }
        int[] uniq = a.uniqueTokens;
        int seg = -1, prev = -1;
        for (int k = 0; k < BT; k++) {
            int pos = (int) order[k];
            if (tokens[pos] != prev) {
                seg++;
                prev = tokens[pos];
                uniq[seg] = prev;
                java.util.Arrays.fill(acc, seg * C, seg * C + C, 0.0);
            }
            int o = seg * C, p = pos * C;
            for (int c = 0; c < C; c++) acc[o + c] += src[p + c];
        }
        INDArray g = gr("wte.weight");
        if (g.ordering() != 'c' || !org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(g)) {
            throw new IllegalStateException("the wte gradient is not a dense row-major view: " + g.shapeInfoToString());
        }
        long base = g.offset();
        java.nio.ByteBuffer gb = g.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        if (dtype == DataType.DOUBLE) {
            java.nio.DoubleBuffer d = gb.asDoubleBuffer();
            for (int s = 0; s <= seg; s++) {
                int at = (int) (base + (long) uniq[s] * C), o = s * C;
                for (int c = 0; c < C; c++) d.put(at + c, d.get(at + c) + acc[o + c]);
            }
        } else {
            java.nio.FloatBuffer f = gb.asFloatBuffer();
            for (int s = 0; s <= seg; s++) {
                int at = (int) (base + (long) uniq[s] * C), o = s * C;
                for (int c = 0; c < C; c++) f.put(at + c, f.get(at + c) + (float) acc[o + c]);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    private INDArray p(String name) {
        return params.get(name);
    }

    private INDArray pb(String name) {
        return config.bias() ? params.get(name) : null;
    }

    private INDArray gr(String name) {
        return params.grad(name);
    }

    private INDArray grb(String name) {
        return config.bias() ? params.grad(name) : null;
    }

    private INDArray head() {
        return config.tiedHead() ? p("wte.weight") : p("lm_head.weight");
    }

    private INDArray headGrad() {
        return config.tiedHead() ? gr("wte.weight") : gr("lm_head.weight");
    }

    /** Saves this model as a Hugging Face GPT-2 folder (config.json + model.safetensors). */
    public void save(java.nio.file.Path dir) {
        ModelFiles.save(this, dir);
    }

    /** Loads a Hugging Face GPT-2 folder in float32. */
    public static GptModel load(java.nio.file.Path dir) {
        return ModelFiles.load(dir);
    }

    /**
     * A key/value cache for {@code batch} sequences, for generation one token at a time (see {@link KvCache}).
     * Float32 models only; always computes in evaluation mode.
     */
    public KvCache newKvCache(int batch) {
        return new KvCache(this, batch);
    }

    /** Number of parameters (scalars). */
    public long parameterCount() {
        return params.size();
    }

    @Override
    public void close() {
        acts = null;
        shapes.clear();
        params.values().close();
        params.grads().close();
    }

    @Override
    public String toString() {
        return "GptModel[" + config + ", " + String.format("%,d", params.size()) + " parameters, " + dtype
                + (training ? ", train" : ", eval") + "]";
    }
}
