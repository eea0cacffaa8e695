package dev.gpt4j.core;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A key/value cache for fast generation (Raschka ch. 5's loop, made incremental): a prompt is run once
 * ({@link #prefill}), then each new token costs one row through the model ({@link #step}) instead of the whole
 * sequence. It holds {@code batch} independent sequences, each with its own length, so several prompts can be
 * generated at once.
 *
 * <p>The matrix products run on ND4J (BLAS) into preallocated buffers, one-row products through OpenBLAS's
 * sgemv directly when it is available ({@code Blas}); the per-row work that is cheap but
 * would cost an ND4J call each (LayerNorm, GELU, biases, the attention of a few query rows over the cached
 * keys and values) runs in plain Java on float arrays. The cache always computes in evaluation mode (no
 * dropout). It reads the model's weights at every call, so it stays valid while the model trains.
 *
 * <pre>{@code
 * try (KvCache cache = model.newKvCache(1)) {
 *     float[] logits = cache.prefill(0, promptTokens);   // [V] for the last prompt position
 *     logits = cache.step(new int[] {nextToken});          // [1 * V]
 * }
 * }</pre>
 * Float32 models only. Not thread-safe.
 */
public final class KvCache implements AutoCloseable {
    private final GptModel model;
    private final int batch, L, C, H, hs, V, Tmax, rmax;
    private final float[][] keys, values; // per layer: [batch, Tmax, C]
    private final int[] length;
    private final int[] rowSeq, rowPos; // sequence and position of each row of the current call
    private final boolean[] seen;
    // native scratch: rows of the current call
    private final INDArray nIn, nQkv, nOut, nFc, nLogits;
    private final FloatBuffer fIn, fQkv, fOut, fFc, fLogits, fParams;
    private final Map<Integer, INDArray[]> rowViews = new HashMap<>();
    // Java scratch
    private final float[] x, h, qkv, y, fc, scores;
    private final float[] lnW, lnB, bQkv, bProj, bFc, bProj2;
    private final Parameters.Slot wte, wpe;
    // one-row products through sgemv (null when it is not available): pointers to the native buffers
    private final FloatPointer pIn, pQkv, pOut, pFc, pLogits;
    // pointers to each weight inside the flat parameter buffer (which the model keeps for its lifetime), made once
    private final Map<String, FloatPointer> weightPointers = new HashMap<>();
    private boolean closed;

    KvCache(GptModel model, int batch) {
        if (model.dataType() != DataType.FLOAT) throw new IllegalArgumentException("the KV cache needs a FLOAT model, not " + model.dataType());
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, not " + batch);
        GptConfig c = model.config();
        this.model = model;
        this.batch = batch;
        this.L = c.layers();
        this.C = c.embedDim();
        this.H = c.heads();
        this.hs = c.headDim();
        this.V = c.vocabSize();
        this.Tmax = c.contextLength();
        this.rmax = Math.max(batch, Tmax);
        keys = new float[L][batch * Tmax * C];
        values = new float[L][batch * Tmax * C];
        length = new int[batch];
        rowSeq = new int[rmax];
        rowPos = new int[rmax];
        seen = new boolean[batch];
        nIn = Nd4j.create(DataType.FLOAT, rmax, C);
        nQkv = Nd4j.create(DataType.FLOAT, rmax, 3L * C);
        nOut = Nd4j.create(DataType.FLOAT, rmax, C);
        nFc = Nd4j.create(DataType.FLOAT, rmax, 4L * C);
        nLogits = Nd4j.create(DataType.FLOAT, batch, V);
        fIn = floats(nIn);
        fQkv = floats(nQkv);
        fOut = floats(nOut);
        fFc = floats(nFc);
        fLogits = floats(nLogits);
        fParams = floats(model.params().values());
        x = new float[rmax * C];
        h = new float[rmax * C];
        qkv = new float[rmax * 3 * C];
        y = new float[rmax * C];
        fc = new float[rmax * 4 * C];
        scores = new float[Tmax];
        lnW = new float[C];
        lnB = new float[C];
        bQkv = new float[3 * C];
        bProj = new float[C];
        bFc = new float[4 * C];
        bProj2 = new float[C];
        wte = model.params().slot("wte.weight");
        wpe = model.params().slot("wpe.weight");
        boolean gemv = Blas.available();
        pIn = gemv ? Blas.pointer(nIn, 0) : null;
        pQkv = gemv ? Blas.pointer(nQkv, 0) : null;
        pOut = gemv ? Blas.pointer(nOut, 0) : null;
        pFc = gemv ? Blas.pointer(nFc, 0) : null;
        pLogits = gemv ? Blas.pointer(nLogits, 0) : null;
    }

    private static FloatBuffer floats(INDArray a) {
        return a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
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
        return Tmax - length(seq);
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
        checkSeq(to);
        if (from == to) return;
        int n = length[from] * C;
        for (int l = 0; l < L; l++) {
            System.arraycopy(keys[l], from * Tmax * C, keys[l], to * Tmax * C, n);
            System.arraycopy(values[l], from * Tmax * C, values[l], to * Tmax * C, n);
        }
        length[to] = length[from];
    }

    /**
     * Appends {@code tokens} to sequence {@code seq} (all at once; a longer prompt may be given in several
     * calls) and returns the logits [V] that predict the token after the last one.
     */
    public float[] prefill(int seq, int[] tokens) {
        checkSeq(seq);
        if (tokens.length == 0) throw new IllegalArgumentException("prefill needs at least one token");
        if (length[seq] + tokens.length > Tmax) {
            throw new IllegalArgumentException("sequence " + seq + " would hold " + (length[seq] + tokens.length)
                    + " tokens, more than the context length " + Tmax);
        }
        int R = tokens.length;
        for (int r = 0; r < R; r++) {
            rowSeq[r] = seq;
            rowPos[r] = length[seq] + r;
        }
        run(R, tokens, true);
        length[seq] += R;
        float[] out = new float[V];
        fLogits.get(0, out, 0, V);
        return out;
    }

    /** One new token for every sequence (token i goes to sequence i); returns the logits [batch * V]. */
    public float[] step(int[] tokens) {
        if (tokens.length != batch) throw new IllegalArgumentException("step needs " + batch + " tokens, one per sequence, got " + tokens.length);
        int[] seqs = new int[batch];
        for (int i = 0; i < batch; i++) seqs[i] = i;
        return step(seqs, tokens);
    }

    /**
     * One new token for each of the given sequences (distinct ids), e.g. the ones still generating; returns
     * the logits [seqs.length * V] in the order given.
     */
    public float[] step(int[] seqs, int[] tokens) {
        return step(seqs, tokens, new float[seqs.length * V]);
    }

    /**
     * As {@link #step(int[], int[])}, writing the logits into {@code logits} (at least seqs.length * V long),
     * which it returns: a generation loop can reuse one array for every token.
     */
    public float[] step(int[] seqs, int[] tokens, float[] logits) {
        int n = seqs.length;
        if (tokens.length != n) throw new IllegalArgumentException(n + " sequences but " + tokens.length + " tokens");
        if (logits.length < n * V) throw new IllegalArgumentException("the logits array holds " + logits.length + " floats, need " + n * V);
        if (n == 0) return logits;
        Arrays.fill(seen, false);
        for (int i = 0; i < n; i++) {
            checkSeq(seqs[i]);
            if (seen[seqs[i]]) throw new IllegalArgumentException("sequence " + seqs[i] + " appears twice in one step");
            seen[seqs[i]] = true;
            if (length[seqs[i]] >= Tmax) throw new IllegalArgumentException("sequence " + seqs[i] + " is full (context length " + Tmax + ")");
            rowSeq[i] = seqs[i];
            rowPos[i] = length[seqs[i]];
        }
        run(n, tokens, false);
        for (int s : seqs) length[s]++;
        fLogits.get(0, logits, 0, n * V);
        return logits;
    }

    private void checkSeq(int seq) {
        if (closed) throw new IllegalStateException("the KV cache is closed");
        if (seq < 0 || seq >= batch) throw new IllegalArgumentException("sequence " + seq + " is outside [0, " + batch + ")");
    }

    // ------------------------------------------------------------------------------------------ the pass

    /**
     * Rows r &lt; R = (sequence rowSeq[r], position rowPos[r], token tokens[r]); the logits of the last row
     * ({@code lastOnly}, a prefill) or of every row (a step) into nLogits.
     */
    private void run(int R, int[] tokens, boolean lastOnly) {
        Blas.forGeneration();
        int[] seqs = rowSeq, pos = rowPos;
        Parameters p = model.params();
        GptConfig cfg = model.config();
        double eps = cfg.layerNormEps();
        INDArray[] rv = rowViews.computeIfAbsent(R, this::views);
        INDArray in = rv[0], qkvN = rv[1], out = rv[2], fcN = rv[3];
        // embeddings
        for (int r = 0; r < R; r++) {
            int t = tokens[r];
            if (t < 0 || t >= V) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + V + ")");
            fParams.get((int) (wte.offset() + (long) t * C), x, r * C, C);
            int wp = (int) (wpe.offset() + (long) pos[r] * C);
            for (int c = 0; c < C; c++) x[r * C + c] += fParams.get(wp + c);
        }
        for (int l = 0; l < L; l++) {
            String pre = "h." + l + ".";
            // attention
            layerNorm(p, pre + "ln_1", R, eps);
            linear(h, R, in, pre + "attn.c_attn", qkvN, pQkv, fQkv, qkv, bQkv);
            float[] K = keys[l], Vc = values[l];
            for (int r = 0; r < R; r++) {
                int at = (seqs[r] * Tmax + pos[r]) * C;
                System.arraycopy(qkv, r * 3 * C + C, K, at, C);
                System.arraycopy(qkv, r * 3 * C + 2 * C, Vc, at, C);
            }
            for (int r = 0; r < R; r++) attend(K, Vc, r, seqs[r], pos[r]);
            linear(y, R, in, pre + "attn.c_proj", out, pOut, fOut, h, bProj);
            for (int i = 0; i < R * C; i++) x[i] += h[i];
            // MLP
            layerNorm(p, pre + "ln_2", R, eps);
            linear(h, R, in, pre + "mlp.c_fc", fcN, pFc, fFc, fc, bFc);
            gelu(fc, R * 4 * C);
            fFc.put(0, fc, 0, R * 4 * C);
            product(R, fcN, pFc, pre + "mlp.c_proj.weight", out, pOut);
            readRows(out, fOut, h, R, pre + "mlp.c_proj", bProj2);
            for (int i = 0; i < R * C; i++) x[i] += h[i];
        }
        // final LayerNorm and the LM head, only on the rows whose logits are wanted
        layerNorm(p, "ln_f", R, eps);
        int n = lastOnly ? 1 : R;
        fIn.put(0, h, lastOnly ? (R - 1) * C : 0, n * C);
        String head = cfg.tiedHead() ? "wte.weight" : "lm_head.weight";
        if (n == 1 && pIn != null) {
            Blas.wTimesX(weightPointer(head), V, C, pIn, pLogits);
        } else {
            INDArray[] nv = rowViews.computeIfAbsent(n, this::views);
            Blas.gemm(false, true, 1.0, nv[0], p.get(head), 0.0, nv[4]);
        }
    }

    private FloatPointer weightPointer(String name) {
        return weightPointers.computeIfAbsent(name, w -> Blas.pointer(model.params().values(), model.params().slot(w).offset()));
    }

    /** outRows = inRows @ weight: sgemv for one row when available, else ND4J's gemm. */
    private void product(int R, INDArray inRows, FloatPointer inPtr, String weight, INDArray outRows,
                         FloatPointer outPtr) {
        Parameters p = model.params();
        if (R == 1 && inPtr != null) {
            Parameters.Slot s = p.slot(weight);
            Blas.xTimesW(inPtr, weightPointer(weight), (int) s.shape()[0], (int) s.shape()[1], outPtr);
        } else {
            Blas.gemm(false, false, 1.0, inRows, p.get(weight), 0.0, outRows);
        }
    }

    /**
     * dst[R, n] = src[R, C] @ weight + bias of the linear layer {@code name}: src goes into the native input
     * buffer, one BLAS product into {@code outRows}, and the result comes back with the bias added.
     */
    private void linear(float[] src, int R, INDArray inRows, String name, INDArray outRows, FloatPointer outPtr,
                        FloatBuffer outBuf, float[] dst, float[] bias) {
        fIn.put(0, src, 0, R * C);
        product(R, inRows, pIn, name + ".weight", outRows, outPtr);
        readRows(outRows, outBuf, dst, R, name, bias);
    }

    /** dst = the first R rows of a product's output, plus the bias of {@code name} when the model has biases. */
    private void readRows(INDArray outRows, FloatBuffer outBuf, float[] dst, int R, String name, float[] bias) {
        int n = (int) outRows.size(1);
        outBuf.get(0, dst, 0, R * n);
        if (model.config().bias()) {
            read(model.params(), name + ".bias", bias);
            addBias(dst, R, bias);
        }
    }

    /** Views of the first R rows of the native buffers: in, qkv, out, fc, logits (null if R > batch). */
    private INDArray[] views(int R) {
        return new INDArray[] {
                nIn.get(NDArrayIndex.interval(0, R), NDArrayIndex.all()),
                nQkv.get(NDArrayIndex.interval(0, R), NDArrayIndex.all()),
                nOut.get(NDArrayIndex.interval(0, R), NDArrayIndex.all()),
                nFc.get(NDArrayIndex.interval(0, R), NDArrayIndex.all()),
                R <= batch ? nLogits.get(NDArrayIndex.interval(0, R), NDArrayIndex.all()) : null};
    }

    /** y[r] = causal attention of query row r (sequence seq, position pos) over the cached keys and values. */
    private void attend(float[] K, float[] Vc, int r, int seq, int pos) {
        float scale = (float) (1.0 / Math.sqrt(hs));
        int base = seq * Tmax * C;
        for (int head = 0; head < H; head++) {
            int qo = r * 3 * C + head * hs;
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t <= pos; t++) {
                int ko = base + t * C + head * hs;
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                int j = 0;
                for (; j + 3 < hs; j += 4) {
                    s0 += qkv[qo + j] * K[ko + j];
                    s1 += qkv[qo + j + 1] * K[ko + j + 1];
                    s2 += qkv[qo + j + 2] * K[ko + j + 2];
                    s3 += qkv[qo + j + 3] * K[ko + j + 3];
                }
                for (; j < hs; j++) s0 += qkv[qo + j] * K[ko + j];
                float s = (s0 + s1 + s2 + s3) * scale;
                scores[t] = s;
                if (s > max) max = s;
            }
            double sum = 0;
            for (int t = 0; t <= pos; t++) {
                float e = Kernels.exp(scores[t] - max);
                scores[t] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            int yo = r * C + head * hs;
            Arrays.fill(y, yo, yo + hs, 0f);
            for (int t = 0; t <= pos; t++) {
                float a = scores[t] * inv;
                int vo = base + t * C + head * hs;
                for (int j = 0; j < hs; j++) y[yo + j] += a * Vc[vo + j];
            }
        }
    }

    /** h[R, C] = LayerNorm(x) with the weights (and bias) named {@code name}. */
    private void layerNorm(Parameters p, String name, int R, double eps) {
        read(p, name + ".weight", lnW);
        boolean bias = model.config().bias();
        if (bias) read(p, name + ".bias", lnB);
        for (int r = 0; r < R; r++) {
            int o = r * C;
            double mean = 0;
            for (int c = 0; c < C; c++) mean += x[o + c];
            mean /= C;
            double var = 0;
            for (int c = 0; c < C; c++) {
                double d = x[o + c] - mean;
                var += d * d;
            }
            float rstd = (float) (1.0 / Math.sqrt(var / C + eps));
            float m = (float) mean;
            for (int c = 0; c < C; c++) h[o + c] = (x[o + c] - m) * rstd * lnW[c] + (bias ? lnB[c] : 0f);
        }
    }

    private static void gelu(float[] a, int n) {
        for (int i = 0; i < n; i++) {
            float v = a[i];
            a[i] = 0.5f * v * (1f + Kernels.geluTanh(v));
        }
    }

    private static void addBias(float[] a, int rows, float[] b) {
        int w = b.length;
        for (int r = 0; r < rows; r++) for (int c = 0; c < w; c++) a[r * w + c] += b[c];
    }

    private void read(Parameters p, String name, float[] dst) {
        Parameters.Slot s = p.slot(name);
        fParams.get((int) s.offset(), dst, 0, (int) s.size());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        nIn.close();
        nQkv.close();
        nOut.close();
        nFc.close();
        nLogits.close();
    }

    @Override
    public String toString() {
        return "KvCache[batch " + batch + ", lengths " + Arrays.toString(length) + " of " + Tmax + ", " + L + " layers x " + C + "]";
    }
}
