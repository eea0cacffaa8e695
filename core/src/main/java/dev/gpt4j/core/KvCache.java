package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

/**
 * The keys and values of {@code batch} independent sequences, each with its own length: state only. The model writes
 * it ({@link GptModel#prefill}, {@link GptModel#step}): a prompt is run once, then each new token costs one row through
 * the model instead of the whole sequence (Raschka ch. 5's loop, made incremental).
 *
 * <pre>{@code
 * try (KvCache cache = model.newKvCache(1)) {
 *     float[] logits = model.prefill(cache, 0, promptTokens);          // [V] after the last prompt token
 *     logits = model.step(cache, new int[] {0}, new int[] {next}, logits);
 * }
 * }</pre>
 *
 * <p>Layout per layer, for the attention products to read in place: on the {@link Compute#JAVA} path Java arrays, keys
 * transposed ([batch, H, hs, Tp], Tp = the context length rounded up to 32) and values as they are ([batch, H, T, hs]);
 * on the {@link Compute#ND4J} path ND4J arrays [batch, H, T, hs] for both, which stay on the backend's device. Not
 * thread-safe.
 */
public final class KvCache implements AutoCloseable {
    private final Compute compute;
    private final int batch, layers, heads, headDim, context, stride;
    private final int[] length;
    private final float[][] keysT, values;       // Java path
    private final INDArray[] keyArrays, valueArrays; // ND4J path
    private boolean closed;

    KvCache(GptConfig config, Compute compute, DataType dtype, int batch) {
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, not " + batch);
        this.compute = compute;
        this.batch = batch;
        this.layers = config.layers();
        this.heads = config.heads();
        this.headDim = config.headDim();
        this.context = config.contextLength();
        this.stride = Attention.stride(context);
        this.length = new int[batch];
        if (compute == Compute.JAVA) {
            keysT = new float[layers][batch * heads * headDim * stride];
            values = new float[layers][batch * heads * context * headDim];
            keyArrays = valueArrays = null;
        } else {
            keysT = values = null;
            keyArrays = new INDArray[layers];
            valueArrays = new INDArray[layers];
            for (int l = 0; l < layers; l++) {
                keyArrays[l] = Nd4j.create(dtype, batch, heads, context, headDim);
                valueArrays[l] = Nd4j.create(dtype, batch, heads, context, headDim);
            }
        }
    }

    /** Number of sequences this cache holds. */
    public int batch() {
        return batch;
    }

    /** Tokens cached so far for sequence {@code seq}. */
    public int length(int seq) {
        checkSeq(seq);
        return length[seq];
    }

    /** Positions left before sequence {@code seq} reaches the context length. */
    public int remaining(int seq) {
        return context - length(seq);
    }

    /** Forgets sequence {@code seq} (its length becomes 0). */
    public void reset(int seq) {
        checkSeq(seq);
        length[seq] = 0;
    }

    /** Forgets every sequence. */
    public void reset() {
        Arrays.fill(length, 0);
    }

    /** Keeps only the first {@code newLength} cached tokens of {@code seq}. */
    public void truncate(int seq, int newLength) {
        checkSeq(seq);
        if (newLength < 0 || newLength > length[seq]) {
            throw new IllegalArgumentException("cannot truncate sequence " + seq + " of length " + length[seq] + " to " + newLength);
        }
        length[seq] = newLength;
    }

    /**
     * Makes sequence {@code to} a copy of sequence {@code from}: its cached keys and values and its length (what
     * {@code to} held is dropped). Beam search uses it to continue one hypothesis in several ways.
     */
    public void copy(int from, int to) {
        checkSeq(from);
        if (from != to) copyFrom(this, from, to, length[from]);
    }

    /**
     * Makes sequence {@code to} of this cache the first {@code length} positions of sequence {@code from} of {@code src},
     * a cache of the same model (what {@code to} held is dropped): a prompt's beginning, kept in one cache, reused in
     * another.
     */
    public void copyFrom(KvCache src, int from, int to, int length) {
        src.checkSeq(from);
        checkSeq(to);
        if (src.compute != compute || src.layers != layers || src.heads != heads || src.headDim != headDim || src.context != context) {
            throw new IllegalArgumentException("the caches are of different models: " + src + ", " + this);
        }
        if (length < 0 || length > src.length[from]) {
            throw new IllegalArgumentException("sequence " + from + " holds " + src.length[from] + " positions, not " + length);
        }
        for (int l = 0; l < layers; l++) {
            if (compute == Compute.JAVA) {
                for (int h = 0; h < heads; h++) {
                    for (int d = 0; d < headDim; d++) {
                        System.arraycopy(src.keysT[l], src.keyBase(from, h) + d * stride, keysT[l], keyBase(to, h) + d * stride, length);
                    }
                    System.arraycopy(src.values[l], src.valueBase(from, h), values[l], valueBase(to, h), length * headDim);
                }
            } else if (length > 0) {
                keyArrays[l].get(NDArrayIndex.point(to), NDArrayIndex.all(), NDArrayIndex.interval(0, length), NDArrayIndex.all())
                        .assign(src.keyArrays[l].get(NDArrayIndex.point(from), NDArrayIndex.all(), NDArrayIndex.interval(0, length), NDArrayIndex.all()));
                valueArrays[l].get(NDArrayIndex.point(to), NDArrayIndex.all(), NDArrayIndex.interval(0, length), NDArrayIndex.all())
                        .assign(src.valueArrays[l].get(NDArrayIndex.point(from), NDArrayIndex.all(), NDArrayIndex.interval(0, length), NDArrayIndex.all()));
            }
        }
        this.length[to] = length;
    }

    // ------------------------------------------------------------------------------------------ for the model

    Compute compute() {
        return compute;
    }

    int context() {
        return context;
    }

    /** Row stride of the transposed keys (the context length rounded up to 32). */
    int stride() {
        return stride;
    }

    /** Layer l's keys, transposed: sequence s, head h, channel d, position t at keyBase(s, h) + d * stride + t. */
    float[] keysT(int layer) {
        return keysT[layer];
    }

    /** Layer l's values: sequence s, head h, position t, channel d at valueBase(s, h) + t * hs + d. */
    float[] values(int layer) {
        return values[layer];
    }

    int keyBase(int seq, int head) {
        return (seq * heads + head) * headDim * stride;
    }

    int valueBase(int seq, int head) {
        return (seq * heads + head) * context * headDim;
    }

    INDArray keyArray(int layer) {
        return keyArrays[layer];
    }

    INDArray valueArray(int layer) {
        return valueArrays[layer];
    }

    /** After a forward wrote {@code n} more positions of {@code seq}. */
    void advance(int seq, int n) {
        length[seq] += n;
    }

    void checkSeq(int seq) {
        if (closed) throw new IllegalStateException("the KV cache is closed");
        if (seq < 0 || seq >= batch) throw new IllegalArgumentException("sequence " + seq + " is outside [0, " + batch + ")");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (keyArrays != null) {
            for (INDArray a : keyArrays) a.close();
            for (INDArray a : valueArrays) a.close();
        }
    }

    @Override
    public String toString() {
        return "KvCache[batch " + batch + ", lengths " + Arrays.toString(length) + " of " + context + ", " + layers + " layers x "
                + heads * headDim + ", " + compute + "]";
    }
}
