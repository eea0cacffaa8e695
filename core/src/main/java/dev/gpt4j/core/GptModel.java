package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.core.quant.QuantizedMatrix;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


/**
 * A GPT-2-family decoder-only transformer (Raschka ch. 4) with an explicit backward pass:
 * <pre>
 * tokens → wte + wpe → L × [x += drop(attn(ln_1(x))); x += drop(mlp(ln_2(x)))] → ln_f → logits = x wte^T
 * </pre>
 * One forward ({@link #forward(Activations, int[], Attention.Rows, KvCache, boolean)}) runs every use of the model: a training
 * batch (B rows of T positions, whose activations are kept for {@link #backward}), a prompt's prefill and the one-token
 * decode steps (rows after what a {@link KvCache} holds, into the cache). Each layer is a file of its own with its
 * forward, backward, Java kernel and ND4J reference side by side; which of the two runs is the model's {@link Compute},
 * chosen once. Parameters and gradients live in one flat buffer each ({@link Parameters}). Activations are allocated
 * once for a (B, T) shape and reused, so steady-state steps allocate no new tensor memory.
 *
 * <pre>{@code
 * var model = GptModel.create(GptConfig.tiny(), 42);
 * double loss = model.forward(tokens, targets, 8, 128);   // B=8, T=128, flat int arrays of B*T
 * model.zeroGrad(); model.backward();                     // gradients in model.params().grads()
 * try (KvCache cache = model.newKvCache(1)) {             // generation
 *     float[] logits = model.prefill(cache, 0, prompt);
 * }
 * }</pre>
 *
 * Not thread-safe: one forward/backward at a time. Close it to free its native memory early.
 */
public final class GptModel implements AutoCloseable {
    /** Targets equal to this are ignored by the loss (as PyTorch's cross-entropy ignore_index). */
    public static final int IGNORE = -100;

    private final GptConfig config;
    private final DataType dtype;
    private final Compute compute;
    private Parameters params;
    private Block[] blocks;
    /** Linear weights stored packed (F16, Q8_0, Q4_0, NF4), by name; they are not in {@link #params}. */
    private final Map<String, QuantizedMatrix> packed = new LinkedHashMap<>();
    /** LoRA adapters by name; at most one active, none merged twice. */
    private final Map<String, LoraAdapter> adapters = new LinkedHashMap<>();
    private final java.util.Set<String> merged = new java.util.HashSet<>();
    private String active;
    private long seed;
    private boolean training = true;
    /** Whether cached forwards quantize the inputs of Q8_0 and Q4_0 weights to Q8_0 ({@link #setQ8Activations}). */
    private boolean q8Activations = Compute.Q8_ACTIVATIONS;
    /** Counts the changes to what a forward computes from the same tokens ({@link #forwardVersion}). */
    private long forwardVersion;
    private long dropoutStep;
    private Activations acts;
    /** Training activations by (B, T), least recently used first: batches of a few lengths each keep their buffers. */
    private final LinkedHashMap<Long, Activations> shapes = new LinkedHashMap<>();
    /** The arrays of cached forwards (prefill, decode), for the most rows asked so far; views of their first R rows. */
    private Activations.Shared shared;
    private final Embedding.Scratch embScratch = new Embedding.Scratch();
    private int maxShapes = 1;
    private final Dropout.Draws dropoutDraws = new Dropout.Draws();
    /** The packed weights' heap rows, one buffer for every layer. */
    private final Linear.Scratch packedScratch = new Linear.Scratch();
    /** The model this one shares its weights and adapters with ({@link #replica}), or null. */
    private final GptModel replicaOf;

    private GptModel(GptConfig config, DataType dtype, Compute compute, long seed) {
        this(config, dtype, compute, seed, Map.of(), true);
    }

    /**
     * A model whose linear weights named in {@code packed} are those packed matrices (not in the parameter buffer);
     * without {@code trainable} its base is frozen from the start (no gradient buffer).
     */
    private GptModel(GptConfig config, DataType dtype, Compute compute, long seed, Map<String, QuantizedMatrix> packed, boolean trainable) {
        if (dtype != DataType.FLOAT && dtype != DataType.DOUBLE) throw new IllegalArgumentException("dtype must be FLOAT or DOUBLE, not " + dtype);
        if (compute == Compute.JAVA && dtype != DataType.FLOAT) throw new IllegalArgumentException("the Java path computes in FLOAT, not " + dtype);
        if (!packed.isEmpty() && dtype != DataType.FLOAT) throw new IllegalArgumentException("packed weights are for float32 models, not " + dtype);
        this.config = config;
        this.dtype = dtype;
        this.compute = compute;
        this.seed = seed;
        this.replicaOf = null;
        this.packed.putAll(packed);
        Parameters.Layout layout = new Parameters.Layout();
        for (Parameters.Slot s : Parameters.layout(config)) if (!packed.containsKey(s.name())) layout.add(s.name(), s.shape());
        this.params = new Parameters(layout.slots(), dtype, trainable);
        this.blocks = blocks(params, config, compute, this.packed);
    }

    /** A replica of {@code of}: its weights, packed weights and adapters, and layers of its own. */
    private GptModel(GptModel of) {
        this.config = of.config;
        this.dtype = of.dtype;
        this.compute = of.compute;
        this.seed = of.seed;
        this.replicaOf = of;
        this.params = of.params;
        this.packed.putAll(of.packed);
        this.adapters.putAll(of.adapters);
        this.merged.addAll(of.merged);
        this.q8Activations = of.q8Activations;
        this.training = false;
        this.blocks = blocks(params, config, compute, packed);
        this.active = of.active;
        attachActive();
    }

    /**
     * A model for another thread: the same weights, packed weights and adapters as this one (shared, not copied), the
     * same active adapter, and activations and layer scratch of its own, in evaluation mode. For answering on several
     * threads at once (one replica each, this model being one of them), as {@code gpt4j serve --model-threads} does;
     * the replicas' logits are this model's to the bit, alone or while others run.
     *
     * <p>A replica only runs forwards: it does not train, and it cannot merge, add, remove or pack what it shares
     * ({@link IllegalStateException}); change those on this model while no replica runs. This model must stay open as
     * long as its replicas are used; closing a replica frees only its own activations.
     *
     * <p>From the first replica on, OpenBLAS runs on one thread for the rest of the process (its thread pool is not for
     * concurrent callers). A forward that runs alone still splits its larger products over gpt4j's pool; one that runs
     * beside another keeps to its own thread, which is where a second thread's batch gains its core. Pinning changes no
     * logit of the shipped model; a model whose products OpenBLAS's two threads would split elsewhere (lengths that are
     * not whole blocks of 64 rows) can see its last bits change once, when the first replica is made.
     */
    public GptModel replica() {
        GptModel root = replicaOf != null ? replicaOf : this;
        Blas.pinOneThread();
        return new GptModel(root);
    }

    /** Whether this model is a {@link #replica} of another. */
    public boolean isReplica() {
        return replicaOf != null;
    }

    private void notOnReplica(String what) {
        if (replicaOf != null) {
            throw new IllegalStateException("a replica cannot " + what + ": it shares its weights and adapters with the model it was made from");
        }
    }

    private Block[] blocks(Parameters params, GptConfig config, Compute compute, Map<String, QuantizedMatrix> packed) {
        Block[] b = new Block[config.layers()];
        for (int l = 0; l < b.length; l++) b[l] = new Block(params, "h." + l + ".", config.bias(), compute, packed, packedScratch);
        return b;
    }

    /** A model with GPT-2's initialisation drawn from {@code seed}, in float32. */
    public static GptModel create(GptConfig config, long seed) {
        return create(config, seed, DataType.FLOAT);
    }

    /** A model with GPT-2's initialisation drawn from {@code seed}, in FLOAT or DOUBLE, on the path the backend gives. */
    public static GptModel create(GptConfig config, long seed, DataType dtype) {
        return create(config, seed, dtype, Compute.choose(dtype));
    }

    /**
     * As {@link #create(GptConfig, long, DataType)} on a given path: {@link Compute#ND4J} for any dtype, {@link Compute#JAVA}
     * for FLOAT on the CPU backend (to compare the two, or to benchmark one).
     */
    public static GptModel create(GptConfig config, long seed, DataType dtype, Compute compute) {
        GptModel m = new GptModel(config, dtype, compute, seed);
        m.initialize(seed);
        return m;
    }

    /** A model whose weights are all zero (to be filled, e.g. by a checkpoint reader). */
    static GptModel empty(GptConfig config, DataType dtype, long seed) {
        return new GptModel(config, dtype, Compute.choose(dtype), seed);
    }

    /** As {@link #empty(GptConfig, DataType, long)}, with these linear weights packed (a reader's). */
    static GptModel empty(GptConfig config, DataType dtype, long seed, Map<String, QuantizedMatrix> packed) {
        return empty(config, dtype, seed, packed, true);
    }

    /** As above; without {@code trainable}, frozen from the start. */
    static GptModel empty(GptConfig config, DataType dtype, long seed, Map<String, QuantizedMatrix> packed, boolean trainable) {
        return new GptModel(config, dtype, Compute.choose(dtype), seed, packed, trainable);
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

    /** The path this model computes on, chosen when it was made. */
    public Compute compute() {
        return compute;
    }

    /** Training mode: dropout on (if the config has any). */
    public GptModel train() {
        notOnReplica("train");
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

    /** Sets every gradient to zero: the model's (unless its base is frozen) and the active adapter's. */
    public void zeroGrad() {
        notOnReplica("train");
        if (params.hasGrads()) params.grads().assign(0);
        LoraAdapter a = activeAdapter();
        if (a != null && a.params().hasGrads()) a.params().grads().assign(0);
    }

    // ------------------------------------------------------------------------------------------ LoRA

    /**
     * Adds a LoRA adapter under {@code name} (not yet active). It must fit this model's shape and dtype.
     *
     * @throws IllegalArgumentException naming the mismatch, or a name already taken
     */
    public void addAdapter(String name, LoraAdapter adapter) {
        notOnReplica("add an adapter");
        GptConfig b = adapter.baseConfig();
        if (b.embedDim() != config.embedDim() || b.layers() != config.layers()) {
            throw new IllegalArgumentException("adapter " + name + " fits models of n_embd " + b.embedDim() + " and " + b.layers()
                    + " layers, not this one (n_embd " + config.embedDim() + ", " + config.layers() + " layers)");
        }
        if (adapter.params().values().dataType() != dtype) {
            throw new IllegalArgumentException("adapter " + name + " is " + adapter.params().values().dataType() + ", the model " + dtype);
        }
        if (adapters.putIfAbsent(name, adapter) != null) throw new IllegalArgumentException("an adapter named " + name + " is already loaded");
    }

    /**
     * Removes adapter {@code name} (deactivated if it was active) and frees its weights: for switching adapters, one per
     * database, in a long-lived model.
     *
     * @throws IllegalStateException if it is merged into the weights (unmerge it first)
     */
    public void removeAdapter(String name) {
        notOnReplica("remove an adapter");
        LoraAdapter a = adapters.get(name);
        if (a == null) throw new IllegalArgumentException("no adapter named " + name + " (loaded: " + adapters.keySet() + ")");
        if (merged.contains(name)) throw new IllegalStateException("adapter " + name + " is merged into the weights; unmerge it first");
        if (name.equals(active)) setActiveAdapter(null);
        adapters.remove(name);
        a.close();
    }

    /** The loaded adapters, by name. */
    public Map<String, LoraAdapter> adapters() {
        return java.util.Collections.unmodifiableMap(adapters);
    }

    /** Makes adapter {@code name} the one every forward applies (null: none). */
    public void setActiveAdapter(String name) {
        if (name != null && !adapters.containsKey(name)) throw new IllegalArgumentException("no adapter named " + name + " (loaded: " + adapters.keySet() + ")");
        if (name != null && merged.contains(name)) throw new IllegalStateException("adapter " + name + " is merged into the weights; unmerge it first");
        active = name;
        attachActive();
        forwardVersion++;
    }

    /**
     * A number that changes whenever the same tokens may give other keys, values or logits than before: an adapter
     * activated, switched or deactivated, merged or unmerged, the activation mode of packed weights changed. Whoever
     * keeps keys and values past one call (a {@code Generator}'s prompt beginnings) compares it. Training steps do
     * not change it: keep nothing across them.
     */
    public long forwardVersion() {
        return forwardVersion;
    }

    /** The active adapter, or null. */
    public LoraAdapter activeAdapter() {
        return active == null ? null : adapters.get(active);
    }

    /** The active adapter's A and B on the linear layers it targets (and no adapter on the others). */
    private void attachActive() {
        LoraAdapter a = activeAdapter();
        for (int l = 0; l < blocks.length; l++) {
            Linear[] ls = blocks[l].linears();
            for (int k = 0; k < ls.length; k++) {
                String layer = LoraConfig.LAYERS.get(k);
                if (a == null || !a.config().targets(layer)) {
                    ls[k].setLora(null);
                    continue;
                }
                Parameters p = a.params();
                String an = LoraAdapter.name(l, layer, "A"), bn = LoraAdapter.name(l, layer, "B");
                boolean g = p.hasGrads();
                ls[k].setLora(new Linear.Lora(p.get(an), p.get(bn), g ? p.grad(an) : null, g ? p.grad(bn) : null,
                        a.config().scaling(), a.config().dropout()));
            }
        }
        // activations hold what an adapter's forward keeps, sized by its rank
        acts = null;
        shapes.clear();
        shared = null;
    }

    /**
     * Freezes the base model for adapter training: its gradient buffer is freed, and backward computes only what flows
     * through it to the active adapter's A and B.
     */
    public void freezeBase() {
        notOnReplica("freeze its base");
        if (!params.hasGrads()) return;
        params.freeze();
        blocks = blocks(params, config, compute, packed);
        attachActive();
    }

    /** Whether the base is frozen ({@link #freezeBase()}). */
    public boolean baseFrozen() {
        return !params.hasGrads();
    }

    /** The names of the linear layers' weights ({@code h.N.attn.c_attn.weight}, ...), block by block. */
    List<String> linearWeights() {
        List<String> out = new ArrayList<>();
        for (int l = 0; l < config.layers(); l++) for (String layer : LoraConfig.LAYERS) out.add("h." + l + "." + layer + ".weight");
        return out;
    }

    /**
     * Stores every linear layer's weight in {@code type} from now on ({@link QuantizedMatrix}: F16, Q8_0, Q4_0, NF4, with
     * NF4's absmax double-quantized when {@code doubleQuant}); embeddings, LayerNorms and biases stay float32. The
     * packed weights are frozen (no gradients), and their float32 copies leave the parameter buffer, which is rebuilt
     * without them. Weights already packed stay as they are.
     */
    public void storeWeightsAs(QuantType type, boolean doubleQuant) {
        notOnReplica("pack its weights");
        if (dtype != DataType.FLOAT) throw new IllegalStateException("packed weights are for float32 models, not " + dtype);
        Map<String, QuantizedMatrix> add = new LinkedHashMap<>();
        for (String name : linearWeights()) {
            if (packed.containsKey(name)) continue;
            add.put(name, pack(params.get(name), type, doubleQuant));
        }
        adoptPacked(add);
    }

    /** A linear weight as HF's Conv1D holds it, [in, out], packed as [out, in]; its transposed float32 copy freed at once. */
    static QuantizedMatrix pack(INDArray w, QuantType type, boolean doubleQuant) {
        int in = (int) w.size(0), out = (int) w.size(1);
        try (INDArray t = w.transpose().dup('c')) {
            return QuantizedMatrix.quantize(type, t.data().asFloat(), out, in, doubleQuant);
        }
    }

    /** Takes these packed weights in place of their float32 copies (a loader's or {@link #storeWeightsAs}'s). */
    void adoptPacked(Map<String, QuantizedMatrix> add) {
        if (add.isEmpty()) return;
        boolean frozen = !params.hasGrads();
        packed.putAll(add);
        Parameters old = params;
        Parameters.Layout layout = new Parameters.Layout();
        for (Parameters.Slot s : Parameters.layout(config)) if (!packed.containsKey(s.name())) layout.add(s.name(), s.shape());
        Parameters fresh = new Parameters(layout.slots(), dtype);
        for (Parameters.Slot s : fresh.slots()) if (old.slot(s.name()) != null) fresh.get(s.name()).assign(old.get(s.name()));
        params = fresh;
        old.values().close();
        if (old.hasGrads()) old.grads().close();
        if (frozen) params.freeze();
        blocks = blocks(params, config, compute, packed);
        attachActive();
    }

    /**
     * How inference multiplies linear weights stored as Q8_0 or Q4_0: with {@code on} (the default, unless
     * {@code -Dgpt4j.quant.activations=f32}) each input row is first quantized to Q8_0 blocks and every block's product
     * is an integer dot product scaled by the two fp16 scales ({@link dev.gpt4j.core.quant.Q8Activations}); off, the
     * float activations are multiplied by the weights as they dequantize.
     *
     * <p>Why quantized by default: it is what llama.cpp computes with the same Q8_0 or Q4_0 file (ggml's
     * {@code vec_dot_type} of both is Q8_0), so gpt4j decodes such a file as llama.cpp does rather than as the same
     * weights would with float activations; llama.cpp's greedy tokens are what users compare against. It costs no speed
     * (one 8-bit product per element instead of a dequantize and a multiply). It applies to the cached forwards
     * (prefill, decode: generation) only. Training forwards, the loss and {@link #logits} keep the float activations
     * (their products with packed weights run on dequantized tiles), so that a backward (QLoRA over a Q8_0 or Q4_0 base)
     * is the gradient of the forward it follows. F16 and NF4 weights always take the float activations.
     */
    public GptModel setQ8Activations(boolean on) {
        if (on != q8Activations) forwardVersion++;
        q8Activations = on;
        return this;
    }

    /** Whether inference quantizes the inputs of Q8_0 and Q4_0 weights to Q8_0 ({@link #setQ8Activations}). */
    public boolean q8Activations() {
        return q8Activations;
    }

    /** The linear weights stored packed, by name (empty for a float32 model). */
    public Map<String, QuantizedMatrix> packedWeights() {
        return java.util.Collections.unmodifiableMap(packed);
    }

    /**
     * Adds adapter {@code name}'s product into the base weights, W += scaling · (B A)^T (GPT-2's Conv1D stores W as [in,
     * out]), so that the model computes what model and adapter computed together, at no cost per token. The adapter is
     * no longer applied on top (it is deactivated if it was active).
     */
    public void mergeAdapter(String name) {
        notOnReplica("merge an adapter");
        LoraAdapter a = adapters.get(name);
        if (a == null) throw new IllegalArgumentException("no adapter named " + name);
        if (!merged.add(name)) throw new IllegalStateException("adapter " + name + " is merged already");
        if (name.equals(active)) setActiveAdapter(null);
        addDelta(a, 1.0);
        forwardVersion++;
    }

    /** Takes adapter {@code name}'s product back out of the base weights (the reverse of {@link #mergeAdapter}). */
    public void unmergeAdapter(String name) {
        notOnReplica("unmerge an adapter");
        LoraAdapter a = adapters.get(name);
        if (a == null) throw new IllegalArgumentException("no adapter named " + name);
        if (!merged.remove(name)) throw new IllegalStateException("adapter " + name + " is not merged");
        addDelta(a, -1.0);
        forwardVersion++;
    }

    /**
     * W[in, out] += sign · scaling · A^T B^T for each targeted layer. A packed F16 weight is unpacked, changed and
     * packed again (rounded to half precision); other packed formats are refused: merging belongs in a float base.
     */
    private void addDelta(LoraAdapter a, double sign) {
        for (String layer : a.config().targetedLayers()) {
            QuantizedMatrix q = packed.get("h.0." + layer + ".weight");
            if (q != null && q.type() != QuantType.F16) {
                throw new IllegalStateException("cannot merge an adapter into " + q.type() + " weights: merge into an F32 or F16 base");
            }
        }
        for (int l = 0; l < config.layers(); l++) {
            for (String layer : a.config().targetedLayers()) {
                String name = "h." + l + "." + layer + ".weight";
                INDArray A = a.params().get(LoraAdapter.name(l, layer, "A")), B = a.params().get(LoraAdapter.name(l, layer, "B"));
                QuantizedMatrix q = packed.get(name);
                if (q == null) {
                    Nd4j.gemm(A, B, params.get(name), true, true, sign * a.config().scaling(), 1.0);
                    continue;
                }
                INDArray w = Nd4j.createFromArray(q.dequantize()).reshape(q.rows(), q.cols()); // [out, in]
                Nd4j.gemm(B, A, w, false, false, sign * a.config().scaling(), 1.0);
                packed.put(name, QuantizedMatrix.quantize(QuantType.F16, w.data().asFloat(), q.rows(), q.cols()));
            }
        }
        if (!packed.isEmpty()) {
            blocks = blocks(params, config, compute, packed);
            attachActive();
        }
    }

    // ------------------------------------------------------------------------------------------ layers

    /** One transformer block's layers: views of its LayerNorm weights and its four linear layers. */
    private static final class Block {
        final INDArray ln1w, ln1b, ln1dw, ln1db, ln2w, ln2b, ln2dw, ln2db;
        final Linear attn, proj, fc, fcProj;

        Block(Parameters p, String h, boolean bias, Compute compute, Map<String, QuantizedMatrix> packed, Linear.Scratch scratch) {
            boolean g = p.hasGrads();
            ln1w = p.get(h + "ln_1.weight");
            ln1dw = g ? p.grad(h + "ln_1.weight") : null;
            ln1b = bias ? p.get(h + "ln_1.bias") : null;
            ln1db = bias && g ? p.grad(h + "ln_1.bias") : null;
            ln2w = p.get(h + "ln_2.weight");
            ln2dw = g ? p.grad(h + "ln_2.weight") : null;
            ln2b = bias ? p.get(h + "ln_2.bias") : null;
            ln2db = bias && g ? p.grad(h + "ln_2.bias") : null;
            attn = new Linear(p, h + "attn.c_attn", bias, compute, packed.get(h + "attn.c_attn.weight"), scratch);
            proj = new Linear(p, h + "attn.c_proj", bias, compute, packed.get(h + "attn.c_proj.weight"), scratch);
            fc = new Linear(p, h + "mlp.c_fc", bias, compute, packed.get(h + "mlp.c_fc.weight"), scratch);
            fcProj = new Linear(p, h + "mlp.c_proj", bias, compute, packed.get(h + "mlp.c_proj.weight"), scratch);
        }

        /** The block's linear layers in {@link LoraConfig#LAYERS}' order. */
        Linear[] linears() {
            return new Linear[] {attn, proj, fc, fcProj};
        }
    }

    /** The training activations of a (B, T) shape, kept for the last few shapes. */
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
            acts = cached != null ? cached : new Activations(config, dtype, compute, params, B, T);
            shapes.put(key, acts);
        }
        return acts;
    }

    // ------------------------------------------------------------------------------------------ the forward

    /**
     * The one forward: embeddings, the blocks, the final LayerNorm, into a's arrays (the LM head is the caller's: the
     * loss wants it on the rows with a target, generation on the last row of each block). With a {@code cache}, the
     * rows come after what it holds of their sequences and their keys and values are added to it.
     */
    private void forward(Activations a, int[] tokens, Attention.Rows rows, KvCache cache, boolean drop) {
        int L = config.layers(), H = config.heads(), R = rows.rows();
        double eps = config.layerNormEps(), p = config.dropout();
        for (int r = 0; r < R; r++) {
            int t = tokens[r];
            if (t < 0 || t >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " at position " + r + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
            a.positions[r] = rows.position(r);
        }
        Embedding.forward(compute, params.get("wte.weight"), params.get("wpe.weight"), tokens, a.positions, R, a.x[0], a.idx, a.embTmp);
        if (drop) Dropout.forward(compute, a.x[0], a.embMask, p, dropoutDraws);
        LoraAdapter adapter = activeAdapter();
        // an adapter's own dropout, in training forwards only (cached forwards are evaluation)
        Dropout.Into loraDrop = cache == null && training && adapter != null && adapter.config().dropout() > 0
                ? (x, dropped, m) -> Dropout.forward(compute, x, dropped, m, adapter.config().dropout(), dropoutDraws) : null;
        boolean q8 = cache != null && q8Activations; // inference only (setQ8Activations)
        for (int l = 0; l < L; l++) {
            Block k = blocks[l];
            LayerNorm.forward(compute, a.x[l], k.ln1w, k.ln1b, eps, a.ln1[l], a.ln1Hat[l], a.mean, a.ln1Rstd[l]);
            k.attn.forward(a.ln1[l], a.qkv[l], a.lora(l, 0, k.attn), loraDrop, q8, cache == null);
            Attention.forward(compute, a.qkv[l], a.y[l], rows, H, cache, l, a.att[l], drop, (x, m) -> Dropout.forward(compute, x, m, p, dropoutDraws));
            k.proj.forward(a.y[l], a.attnOut[l], a.lora(l, 1, k.proj), loraDrop, q8, cache == null);
            if (drop) Dropout.forward(compute, a.attnOut[l], a.mask1[l], p, dropoutDraws);
            add(a.x[l], a.attnOut[l], a.xa[l]);
            LayerNorm.forward(compute, a.xa[l], k.ln2w, k.ln2b, eps, a.ln2[l], a.ln2Hat[l], a.mean, a.ln2Rstd[l]);
            k.fc.forward(a.ln2[l], a.fc[l], a.lora(l, 2, k.fc), loraDrop, q8, cache == null);
            Gelu.forward(compute, a.fc[l], a.g[l], a.th[l]);
            k.fcProj.forward(a.g[l], a.proj[l], a.lora(l, 3, k.fcProj), loraDrop, q8, cache == null);
            if (drop) Dropout.forward(compute, a.proj[l], a.mask2[l], p, dropoutDraws);
            add(a.xa[l], a.proj[l], a.x[l + 1]);
        }
        LayerNorm.forward(compute, a.x[L], p("ln_f.weight"), pb("ln_f.bias"), eps, a.lnf, a.lnfHat, a.mean, a.lnfRstd);
    }

    /** out = a + b, the residual connection (out may be a). */
    private void add(INDArray a, INDArray b, INDArray out) {
        if (compute == Compute.JAVA) Kernels.add(a, b, out);
        else out.assign(a).addi(b);
    }

    // ------------------------------------------------------------------------------------------ training

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
        head(a.lnf, a.logits);
        return a.logits;
    }

    /** A training forward of B sequences of T positions (dropout in training mode), kept for backward. */
    private Activations body(int[] tokens, int B, int T) {
        Activations a = activations(B, T);
        if (tokens.length != a.R) throw new IllegalArgumentException("need B*T = " + a.R + " tokens, got " + tokens.length);
        Blas.forTraining();
        a.targets = null;
        a.tokens = tokens.clone();
        boolean drop = training && config.dropout() > 0;
        LoraAdapter adapter = activeAdapter();
        if (drop || training && adapter != null && adapter.config().dropout() > 0) {
            dropoutDraws.reset(seed * 1_000_003L + dropoutStep);
        }
        forward(a, a.tokens, Attention.Rows.batch(B, T), null, drop);
        return a;
    }

    /**
     * The LM head and the cross-entropy, on the rows with a non-zero weight only: a fine-tuning batch with loss
     * on the SQL alone skips most of the head's [BT, V] work. Rows without loss get no logits.
     */
    private double loss(int[] targets, float[] weights) {
        Activations a = acts;
        double wsum = 0;
        int R = 0;
        for (int i = 0; i < a.R; i++) {
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
        a.rowsWithLoss = R;
        if (R == 0) return 0.0;
        INDArray[] v = a.firstRows(R);
        head(headInput(a, v), v[2]);
        for (int r = 0; r < R; r++) {
            a.packedTargets[r] = targets[a.selRows[r]];
            a.packedW[r] = a.weights[a.selRows[r]];
        }
        return CrossEntropy.forward(compute, v[2], v[3], v[4], v[5], a.packedTargets, a.packedW) / wsum;
    }

    /** The rows of lnf that carry loss, packed: lnf itself when every row does, else selIn (filled here). */
    private INDArray headInput(Activations a, INDArray[] v) {
        if (a.rowsWithLoss == a.R) return a.lnf;
        copyRows(a.lnf, a.selRows, a.selIn, null, a.rowsWithLoss, a.C);
        return v[0];
    }

    /** logits [n, V] = x [n, C] @ head^T: an sgemv per row for a decoding step's few rows, else a gemm. */
    private void head(INDArray x, INDArray logits) {
        if (compute == Compute.JAVA) {
            if (x.size(0) < Blas.SPLIT_ROWS && Blas.available()) {
                Blas.wTimesXRows(headWeight(), x, logits);
            } else {
                Blas.gemm(false, true, 1.0, x, headWeight(), 0.0, logits);
            }
        } else {
            Nd4j.gemm(x, headWeight(), logits, false, true, 1.0, 0.0);
        }
    }

    /**
     * Row copies between [*, C] arrays of this model's dtype: dst row (dstRows == null ? k : dstRows[k]) =
     * src row (srcRows == null ? k : srcRows[k]), for k &lt; n. Plain Java on the native buffers.
     */
    private void copyRows(INDArray src, int[] srcRows, INDArray dst, int[] dstRows, int n, int C) {
        ByteBuffer sb = src.data().asNio().order(ByteOrder.nativeOrder());
        ByteBuffer db = dst.data().asNio().order(ByteOrder.nativeOrder());
        if (dtype == DataType.DOUBLE) {
            DoubleBuffer s = sb.asDoubleBuffer(), d = db.asDoubleBuffer();
            for (int k = 0; k < n; k++) d.put((dstRows == null ? k : dstRows[k]) * C, s, (srcRows == null ? k : srcRows[k]) * C, C);
        } else {
            FloatBuffer s = sb.asFloatBuffer(), d = db.asFloatBuffer();
            for (int k = 0; k < n; k++) d.put((dstRows == null ? k : dstRows[k]) * C, s, (srcRows == null ? k : srcRows[k]) * C, C);
        }
    }

    /**
     * Adds the gradient of the last forward's loss to {@link Parameters#grads()}, and to the active adapter's. With a
     * frozen base, only the adapter's.
     */
    public void backward() {
        notOnReplica("train");
        Activations a = acts;
        if (a == null || a.targets == null) throw new IllegalStateException("backward() needs a forward() with targets first");
        int L = config.layers(), H = config.heads();
        boolean drop = training && config.dropout() > 0;
        if (a.weightSum == 0) return;
        Blas.forTraining();
        // dlogits = (softmax - onehot) * w / sum(w), in the probs buffer, on the R rows with loss
        int R = a.rowsWithLoss;
        boolean dense = R == a.R;
        INDArray[] v = a.firstRows(R);
        for (int r = 0; r < R; r++) a.packedW[r] = (float) (a.weights[a.selRows[r]] / a.weightSum);
        CrossEntropy.backward(compute, v[3], v[5], a.packedTargets, a.packedW, v[6]);
        INDArray dlogits = v[3];
        // logits = lnf[rows] @ head^T; rows without loss have no gradient
        gemm(false, false, dlogits, headWeight(), 0.0, dense ? a.dln : v[1]);
        if (!dense) {
            a.dln.assign(0);
            copyRows(a.selD, null, a.dln, a.selRows, R, a.C);
        }
        if (params.hasGrads()) gemm(true, false, dlogits, dense ? a.lnf : v[0], 1.0, headGrad());
        LayerNorm.backward(compute, a.dln, a.lnfHat, a.lnfRstd, p("ln_f.weight"), a.dres, params.hasGrads() ? gr("ln_f.weight") : null,
                params.hasGrads() ? grb("ln_f.bias") : null, a.dtmp, a.dtmp2, a.rowTmp, false);
        Attention.Rows rows = Attention.Rows.batch(a.B, a.T);
        // a frozen base needs the gradient only down to the lowest layer with an adapter: below it nothing learns
        boolean frozen = !params.hasGrads();
        int lowest = frozen ? lowestAdapted() : -1; // layer * 4 + index in LoraConfig.LAYERS, or -1 for all
        if (frozen && lowest < 0) return;
        for (int l = L - 1; l >= 0; l--) {
            Block k = blocks[l];
            // x[l+1] = xa + drop(proj(gelu(fc(ln_2(xa)))))
            INDArray dproj = a.dres;
            if (drop) dproj = a.dbuf.assign(a.dres).muli(a.mask2[l]);
            k.fcProj.backward(dproj, a.g[l], lowest == 4 * l + 3 ? null : a.d4a, false, a.lora(l, 3, k.fcProj));
            if (lowest == 4 * l + 3) return;
            // g[l] served its last use in c_proj's weight gradient just above: it is the scratch here
            Gelu.backward(compute, a.d4a, a.fc[l], a.th[l], a.d4b, a.g[l]);
            k.fc.backward(a.d4b, a.ln2[l], lowest == 4 * l + 2 ? null : a.dln, false, a.lora(l, 2, k.fc));
            if (lowest == 4 * l + 2) return;
            LayerNorm.backward(compute, a.dln, a.ln2Hat[l], a.ln2Rstd[l], k.ln2w, a.dres, k.ln2dw, k.ln2db, a.dtmp, a.dtmp2, a.rowTmp, true);
            // xa = x[l] + drop(c_proj(attn(c_attn(ln_1(x[l])))))
            INDArray dattnOut = a.dres;
            if (drop) dattnOut = a.dbuf.assign(a.dres).muli(a.mask1[l]);
            k.proj.backward(dattnOut, a.y[l], lowest == 4 * l + 1 ? null : a.dy, false, a.lora(l, 1, k.proj));
            if (lowest == 4 * l + 1) return;
            Attention.backward(compute, a.qkv[l], a.dy, rows, H, a.att[l], drop, a.dqkv);
            k.attn.backward(a.dqkv, a.ln1[l], lowest == 4 * l ? null : a.dln, false, a.lora(l, 0, k.attn));
            if (lowest == 4 * l) return;
            LayerNorm.backward(compute, a.dln, a.ln1Hat[l], a.ln1Rstd[l], k.ln1w, a.dres, k.ln1dw, k.ln1db, a.dtmp, a.dtmp2, a.rowTmp, true);
        }
        // embeddings (nothing to do for a frozen base: no gradient flows further)
        if (!params.hasGrads()) return;
        INDArray demb = a.dres;
        if (drop) demb.muli(a.embMask);
        Embedding.backward(compute, demb, a.dembRows, a.tokens, a.B, a.T, gr("wte.weight"), a.dwpeRows, embScratch);
    }

    /**
     * The lowest linear layer the active adapter adapts, as layer * 4 + its index in {@link LoraConfig#LAYERS}
     * (c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj: the order of a block's forward), or -1 without one.
     */
    private int lowestAdapted() {
        for (int l = 0; l < blocks.length; l++) {
            Linear[] ls = blocks[l].linears();
            for (int k = 0; k < ls.length; k++) if (ls[k].lora() != null) return 4 * l + k;
        }
        return -1;
    }

    /** c = op(a) op(b) + beta c on this model's path. */
    private void gemm(boolean transA, boolean transB, INDArray a, INDArray b, double beta, INDArray c) {
        if (compute == Compute.JAVA) Blas.gemm(transA, transB, 1.0, a, b, beta, c);
        else Nd4j.gemm(a, b, c, transA, transB, 1.0, beta);
    }

    // ------------------------------------------------------------------------------------------ generation

    /** A key/value cache for {@code batch} sequences on this model's path (see {@link KvCache}). */
    public KvCache newKvCache(int batch) {
        return new KvCache(config, compute, dtype, batch);
    }

    /**
     * Appends {@code tokens} to sequence {@code seq} of the cache (a longer prompt may come in several calls) and returns
     * the logits [V] that predict the token after the last one. Evaluation mode whatever {@link #train()} says: no
     * dropout.
     */
    public float[] prefill(KvCache cache, int seq, int[] tokens) {
        checkCache(cache);
        cache.checkSeq(seq);
        if (tokens.length == 0) throw new IllegalArgumentException("prefill needs at least one token");
        if (cache.length(seq) + tokens.length > config.contextLength()) {
            throw new IllegalArgumentException("sequence " + seq + " would hold " + (cache.length(seq) + tokens.length)
                    + " tokens, more than the context length " + config.contextLength());
        }
        float[] out = new float[config.vocabSize()];
        cached(cache, new Attention.Rows(1, tokens.length, new int[] {seq}, new int[] {cache.length(seq)}), tokens, out);
        return out;
    }

    /**
     * One new token for each of the given sequences (distinct ids), e.g. the ones still generating: writes their logits
     * [seqs.length * V], in the order given, into {@code logits} (at least that long; a generation loop reuses one
     * array) and returns it.
     */
    public float[] step(KvCache cache, int[] seqs, int[] tokens, float[] logits) {
        checkCache(cache);
        int n = seqs.length, V = config.vocabSize();
        if (tokens.length != n) throw new IllegalArgumentException(n + " sequences but " + tokens.length + " tokens");
        if (logits.length < n * V) throw new IllegalArgumentException("the logits array holds " + logits.length + " floats, need " + n * V);
        if (n == 0) return logits;
        boolean[] seen = new boolean[cache.batch()];
        int[] starts = new int[n];
        for (int i = 0; i < n; i++) {
            cache.checkSeq(seqs[i]);
            if (seen[seqs[i]]) throw new IllegalArgumentException("sequence " + seqs[i] + " appears twice in one step");
            seen[seqs[i]] = true;
            if (cache.length(seqs[i]) >= config.contextLength()) {
                throw new IllegalArgumentException("sequence " + seqs[i] + " is full (context length " + config.contextLength() + ")");
            }
            starts[i] = cache.length(seqs[i]);
        }
        cached(cache, new Attention.Rows(n, 1, seqs.clone(), starts), tokens, logits);
        return logits;
    }

    /** One new token for every sequence of the cache (token i to sequence i); returns the logits [batch * V]. */
    public float[] step(KvCache cache, int[] tokens) {
        int[] seqs = new int[cache.batch()];
        for (int i = 0; i < seqs.length; i++) seqs[i] = i;
        return step(cache, seqs, tokens, new float[seqs.length * config.vocabSize()]);
    }

    private void checkCache(KvCache cache) {
        if (cache.compute() != compute || cache.context() != config.contextLength()) {
            throw new IllegalArgumentException("this KV cache was made by another model (" + cache + "); use model.newKvCache");
        }
    }

    /**
     * The forward of new rows after what the cache holds, then the LM head on the last row of each block, into
     * {@code out} [B * V].
     */
    private void cached(KvCache cache, Attention.Rows rows, int[] tokens, float[] out) {
        int B = rows.B(), T = rows.T(), R = rows.rows(), V = config.vocabSize();
        if (shared == null || shared.rows < R || shared.headRows < B) {
            int have = shared == null ? 0 : shared.rows, haveHeads = shared == null ? 0 : shared.headRows;
            shared = new Activations.Shared(config, dtype, compute, Math.max(R, have), Math.max(B, Math.max(haveHeads, cache.batch())));
        }
        Activations a = shared.acts(B, T);
        Blas.forRows(R);
        Kernels.forwardStarted();
        INDArray[] h = shared.head(B);
        try {
            forward(a, tokens, rows, cache, false);
            for (int b = 0; b < B; b++) cache.advance(rows.seqs()[b], T);
            INDArray in = a.lnf;
            if (T > 1) {
                int[] last = new int[B];
                for (int b = 0; b < B; b++) last[b] = b * T + T - 1;
                copyRows(a.lnf, last, h[0], null, B, a.C);
                in = h[0];
            }
            head(in, h[1]);
        } finally {
            Kernels.forwardEnded();
        }
        if (compute == Compute.JAVA) Kernels.buf(h[1]).get(0, out, 0, B * V);
        else System.arraycopy(h[1].data().asFloat(), 0, out, 0, B * V);
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

    /** The LM head's weight [V, C]: the token embedding when tied. */
    private INDArray headWeight() {
        return config.tiedHead() ? p("wte.weight") : p("lm_head.weight");
    }

    private INDArray headGrad() {
        return config.tiedHead() ? gr("wte.weight") : gr("lm_head.weight");
    }

    /** Saves this model as a Hugging Face GPT-2 folder (config.json + model.safetensors). */
    public void save(Path dir) {
        ModelFiles.save(this, dir);
    }

    /**
     * Loads a Hugging Face GPT-2 folder, or a gpt2 GGUF file (llama.cpp's; the linear weights stay packed when the file
     * stores them as F16, Q8_0 or Q4_0: {@link GgufModelFiles}), in float32.
     */
    public static GptModel load(Path dir) {
        return ModelFiles.load(dir);
    }

    /**
     * Loads a model for inference or for adapter training: its base is frozen from the start, so no gradient buffer
     * (as large as the weights) is ever made. With {@code packAs} (not null) every linear weight is stored in that
     * format as it is read (NF4 with its absmax double-quantized, as QLoRA does), so that the float32 copies of the
     * linear weights never exist together: the peak is one tensor's, not the model's. Weights the file already holds
     * packed stay as they are; a GGUF file is read whole, then packed.
     */
    public static GptModel loadFrozen(Path dir, QuantType packAs) {
        return ModelFiles.load(dir, DataType.FLOAT, true, packAs);
    }

    /** Number of parameters (scalars), packed ones included. */
    public long parameterCount() {
        long n = params.size();
        for (QuantizedMatrix q : packed.values()) n += (long) q.rows() * q.cols();
        return n;
    }

    @Override
    public void close() {
        acts = null;
        shapes.clear();
        shared = null;
        if (replicaOf != null) return; // what it shares is the original's to free
        adapters.values().forEach(LoraAdapter::close); // an adapter added to the model is the model's to free
        params.values().close();
        if (params.hasGrads()) params.grads().close();
    }

    @Override
    public String toString() {
        return "GptModel[" + config + ", " + String.format("%,d", params.size()) + " parameters, " + dtype + ", " + compute
                + (training ? ", train" : ", eval") + "]";
    }
}
