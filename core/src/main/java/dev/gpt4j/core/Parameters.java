package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One flat buffer holding every weight of a model, each weight a view into it under its Hugging Face GPT-2
 * name and layout ({@code h.0.attn.c_attn.weight} is {@code [C, 3C]}, input by output). A second buffer with
 * the same layout holds the gradients. AdamW, zeroing, clipping and checkpoint writing each touch one array.
 */
public final class Parameters {

    /** One named tensor: where it sits in the flat buffer, its shape, and whether weight decay applies. */
    public record Slot(String name, long offset, long[] shape, boolean decay) {
        public long size() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private final List<Slot> slots;
    private final Map<String, Slot> byName = new LinkedHashMap<>();
    private final long size;
    private final INDArray values;
    private INDArray grads;
    private final Map<String, INDArray> valueViews = new LinkedHashMap<>(), gradViews = new LinkedHashMap<>();

    /** The tensors of a GPT-2 model with this config, in HF's order. */
    public static List<Slot> layout(GptConfig c) {
        int C = c.embedDim(), V = c.vocabSize();
        Layout s = new Layout();
        s.add("wte.weight", V, C);
        s.add("wpe.weight", c.contextLength(), C);
        for (int l = 0; l < c.layers(); l++) {
            String h = "h." + l + ".";
            s.add(h + "ln_1.weight", C);
            if (c.bias()) s.add(h + "ln_1.bias", C);
            s.add(h + "attn.c_attn.weight", C, 3L * C);
            if (c.bias()) s.add(h + "attn.c_attn.bias", 3L * C);
            s.add(h + "attn.c_proj.weight", C, C);
            if (c.bias()) s.add(h + "attn.c_proj.bias", C);
            s.add(h + "ln_2.weight", C);
            if (c.bias()) s.add(h + "ln_2.bias", C);
            s.add(h + "mlp.c_fc.weight", C, 4L * C);
            if (c.bias()) s.add(h + "mlp.c_fc.bias", 4L * C);
            s.add(h + "mlp.c_proj.weight", 4L * C, C);
            if (c.bias()) s.add(h + "mlp.c_proj.bias", C);
        }
        s.add("ln_f.weight", C);
        if (c.bias()) s.add("ln_f.bias", C);
        if (!c.tiedHead()) s.add("lm_head.weight", V, C);
        return s.slots();
    }

    /** Slots laid out one after the other in the order added; weight decay on the 2-D ones (nanoGPT's rule). */
    static final class Layout {
        private final List<Slot> slots = new ArrayList<>();
        private long offset;

        void add(String name, long... shape) {
            Slot slot = new Slot(name, offset, shape, shape.length == 2);
            slots.add(slot);
            offset += slot.size();
        }

        List<Slot> slots() {
            return slots;
        }
    }

    public Parameters(GptConfig config, DataType dtype) {
        this(layout(config), dtype);
    }

    /** Zeroed buffers for these tensors (offsets one after the other, as {@link #layout} makes them). */
    Parameters(List<Slot> layout, DataType dtype) {
        this(layout, dtype, true);
    }

    /** As above; without {@code withGrads}, frozen from the start (no gradient buffer is ever made). */
    Parameters(List<Slot> layout, DataType dtype, boolean withGrads) {
        this.slots = Collections.unmodifiableList(new ArrayList<>(layout));
        long n = 0;
        for (Slot s : slots) {
            byName.put(s.name(), s);
            n = s.offset() + s.size();
        }
        this.size = n;
        this.values = Nd4j.zeros(dtype, n);
        this.grads = withGrads ? Nd4j.zeros(dtype, n) : null;
        for (Slot s : slots) {
            valueViews.put(s.name(), view(values, s));
            if (withGrads) gradViews.put(s.name(), view(grads, s));
        }
    }

    private static INDArray view(INDArray flat, Slot s) {
        INDArray v = flat.get(NDArrayIndex.interval(s.offset(), s.offset() + s.size()));
        return v.reshape('c', s.shape());
    }

    /** The flat parameter buffer. */
    public INDArray values() {
        return values;
    }

    /** The flat gradient buffer (same layout); none once {@link #freeze() frozen}. */
    public INDArray grads() {
        if (grads == null) throw new IllegalStateException("these parameters are frozen: they have no gradients");
        return grads;
    }

    /** Whether the parameters have a gradient buffer (they do until {@link #freeze()}). */
    public boolean hasGrads() {
        return grads != null;
    }

    /**
     * Frees the gradient buffer: the parameters of a frozen base model (under a LoRA adapter) need none, and it is as
     * large as the model.
     */
    public void freeze() {
        if (grads == null) return;
        gradViews.clear();
        grads.close();
        grads = null;
    }

    /** A weight by HF name, as a view into {@link #values()}. */
    public INDArray get(String name) {
        INDArray v = valueViews.get(name);
        if (v == null) throw new IllegalArgumentException("no parameter " + name);
        return v;
    }

    /** A weight's gradient by HF name, as a view into {@link #grads()}. */
    public INDArray grad(String name) {
        if (grads == null) throw new IllegalStateException("these parameters are frozen: " + name + " has no gradient");
        INDArray v = gradViews.get(name);
        if (v == null) throw new IllegalArgumentException("no parameter " + name);
        return v;
    }

    public List<Slot> slots() {
        return slots;
    }

    public Slot slot(String name) {
        return byName.get(name);
    }

    /** Number of scalars. */
    public long size() {
        return size;
    }

    /** A flat 0/1 array marking the scalars that weight decay applies to (the 2-D weights, as in nanoGPT). */
    public INDArray decayMask() {
        INDArray m = Nd4j.zeros(values.dataType(), size);
        for (Slot s : slots) if (s.decay()) m.get(NDArrayIndex.interval(s.offset(), s.offset() + s.size())).assign(1);
        return m;
    }

    @Override
    public String toString() {
        return "Parameters[" + slots.size() + " tensors, " + size + " scalars, " + values.dataType() + "]";
    }
}
