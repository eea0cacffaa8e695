package dev.gpt4j.core;

import dev.gpt4j.core.quant.Q8Activations;
import dev.gpt4j.core.quant.QuantizedMatrix;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.FloatBuffer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A linear layer, out[N, O] = x[N, I] @ w[I, O] + b[O], with its weight as Hugging Face's GPT-2 stores a Conv1D:
 * [in, out], so no transpose. Forward and backward side by side; on the {@link Compute#JAVA} path the products are
 * OpenBLAS calls ({@link Blas}: an sgemv per row below 16 rows, an sgemm split over gpt4j's threads for more) and the bias a Java
 * loop, on the {@link Compute#ND4J} path ND4J's gemm and row-vector ops.
 *
 * <p>An instance is one named layer of a model ({@code h.0.attn.c_attn}): views of its weight, bias and their
 * gradients in the flat {@link Parameters} buffers (no gradients when the base is frozen). Backward adds to the
 * gradients ({@code +=}).
 *
 * <p><b>Stored formats.</b> The weight is float32 in the parameter buffer, or packed ({@link QuantizedMatrix}: F16, Q8_0,
 * Q4_0, NF4; [out, in], frozen). A packed weight is never expanded to float32 whole: the products read its blocks and
 * dequantize as they go (Java path; the ND4J path dequantizes a tile of rows at a time for its gemm).
 *
 * <p><b>LoRA.</b> With an adapter attached ({@link #setLora}), out += scaling · B(A(dropout(x))) with A [r, in] and
 * B [out, r] (PEFT's layout): h [N, r] = drop(x) A^T, out += scaling · h B^T; backward dB += scaling · dout^T h,
 * dh = scaling · dout B, dA += dh^T drop(x), dx += (dh A) ⊙ mask.
 */
public final class Linear {
    private final String name;
    private final Compute compute;
    private final INDArray w, b, dw, db;
    /** The weight when it is stored packed (then w and dw are null). */
    private final QuantizedMatrix packed;
    /** Heap rows for the packed products, shared by a model's layers (one product at a time). */
    private final Scratch scratch;
    /** The active adapter's A and B for this layer, or null. */
    private Lora lora;
    /** h [rows, r] of cached forwards (no backward), grown as needed. */
    private INDArray loraScratch;
    /** A, B and a native h [r] for {@link #loraRows}. */
    private FloatPointer[] loraPointers;

    /**
     * The layer {@code name} ({@code name.weight}, and {@code name.bias} when the model has biases) of {@code p}; its
     * gradients too unless p is frozen.
     */
    Linear(Parameters p, String name, boolean bias, Compute compute) {
        this(p, name, bias, compute, null, new Scratch());
    }

    /**
     * As above, with the weight stored packed when {@code packed} is given (it is then not in p); its products work in
     * {@code scratch}, which the layers of one model share.
     */
    Linear(Parameters p, String name, boolean bias, Compute compute, QuantizedMatrix packed, Scratch scratch) {
        this.name = name;
        this.scratch = scratch;
        this.compute = compute;
        this.packed = packed;
        this.w = packed != null ? null : p.get(name + ".weight");
        this.dw = packed != null || !p.hasGrads() ? null : p.grad(name + ".weight");
        this.b = bias ? p.get(name + ".bias") : null;
        this.db = bias && p.hasGrads() ? p.grad(name + ".bias") : null;
    }

    /**
     * What a packed weight's products work in, one per model: the heap rows that inference's Java products copy their
     * input and output through (a chunk of rows at a time), the Q8_0-quantized input, and the native tile of
     * dequantized weight rows that training's OpenBLAS products multiply. A model holds these once, not a heap copy of
     * every layer's activations.
     */
    static final class Scratch {
        private float[] in = new float[0], out = new float[0];
        /** The input quantized to Q8_0, for Q8_0 and Q4_0 weights at inference (made on first use). */
        private Q8Activations q8;
        /** Dequantized rows of a packed weight for training's OpenBLAS products (native; grown as needed). */
        private INDArray tile;

        INDArray tile(long n) {
            if (tile == null || tile.length() < n) tile = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, n);
            return tile;
        }

        float[] in(int n) {
            if (in.length < n) in = new float[n];
            return in;
        }

        float[] out(int n) {
            if (out.length < n) out = new float[n];
            return out;
        }
    }

    /** Rows of a packed product's chunk: every output value is computed the same way whatever the chunk (QuantizedMatrix). */
    private static final int CHUNK_ROWS = 256;

    /** An adapter's weights for one layer: A [r, in], B [out, r], their gradients (null when not trained) and the scale. */
    record Lora(INDArray a, INDArray b, INDArray da, INDArray db, double scaling, double dropout) {
        int rank() {
            return (int) a.size(0);
        }
    }

    /** What a training forward with an adapter keeps for backward: drop(x) and its mask (with dropout), h. */
    static final class LoraSaved {
        final INDArray dropped, mask, h, dh, dx;
        /** Whether the last forward dropped (a training forward of an adapter with dropout). */
        boolean dropApplied;

        LoraSaved(Lora l, long rows, long in, org.nd4j.linalg.api.buffer.DataType dtype) {
            boolean drop = l.dropout() > 0;
            dropped = drop ? Nd4j.create(dtype, rows, in) : null;
            mask = drop ? Nd4j.create(dtype, rows, in) : null;
            h = Nd4j.create(dtype, rows, l.rank());
            dh = Nd4j.create(dtype, rows, l.rank());
            dx = Nd4j.create(dtype, rows, in);
        }
    }

    /** Attaches an adapter's weights for this layer (null detaches it). */
    void setLora(Lora lora) {
        this.lora = lora;
        this.loraScratch = null;
        this.loraPointers = null;
    }

    Lora lora() {
        return lora;
    }

    /** The weight [in, out] (a view into the model's parameters), or null when it is packed. */
    INDArray weight() {
        return w;
    }

    /** The packed weight [out, in], or null when it is float32 in the parameters. */
    QuantizedMatrix packed() {
        return packed;
    }

    /** Input features. */
    long in() {
        return packed != null ? packed.cols() : w.size(0);
    }

    String name() {
        return name;
    }

    /** out[N, O] = x[N, I] @ w + b (+ the adapter's term), out overwritten; nothing kept for backward. */
    void forward(INDArray x, INDArray out) {
        forward(x, out, null, null, false, false);
    }

    /**
     * out[N, O] = x[N, I] @ w + b, out overwritten, plus the adapter's term when one is attached: with {@code saved}
     * (a training forward) drop(x) and h are kept for backward, the dropout mask drawn by {@code dropout} (null: none).
     * With {@code q8Input} a Q8_0 or Q4_0 weight multiplies x quantized to Q8_0 blocks, as llama.cpp does
     * ({@link GptModel#setQ8Activations}; the adapter's term takes x as it is). {@code training} marks a training
     * forward (a backward may follow): its packed products run as OpenBLAS products over tiles of dequantized rows, as
     * the backward's do.
     */
    void forward(INDArray x, INDArray out, LoraSaved saved, Dropout.Into dropout, boolean q8Input, boolean training) {
        if (packed != null) {
            if (training && compute == Compute.JAVA) tiledForward(x, out);
            else packedForward(x, out, q8Input && packed.takesQ8Activations());
            if (b != null) addRowVector(compute, out, b);
        } else if (compute == Compute.JAVA && x.size(0) < Blas.SPLIT_ROWS && Blas.oneRowProducts()) {
            // a decoding step's few rows: one sgemv each (an sgemm this small costs OpenBLAS more to pack the weight
            // than to multiply), and each row's numbers are then the same whatever it is batched with
            Blas.xTimesWRows(x, w, out);
            if (b != null) Kernels.addRowVector(out, b);
        } else {
            forward(compute, x, w, b, out);
        }
        if (lora == null) return;
        INDArray in = x, h;
        if (saved != null) {
            h = saved.h;
            saved.dropApplied = dropout != null && saved.dropped != null;
            if (saved.dropApplied) {
                in = saved.dropped;
                dropout.apply(x, in, saved.mask);
            }
        } else {
            if (compute == Compute.JAVA && x.size(0) < Blas.SPLIT_ROWS && Blas.oneRowProducts() && lora.a().dataType() == DataType.FLOAT) {
                loraRows(x, out);
                return;
            }
            h = inferenceH(x.size(0));
        }
        gemm(false, true, 1.0, in, lora.a(), 0.0, h);            // h = drop(x) A^T
        gemm(false, true, lora.scaling(), h, lora.b(), 1.0, out); // out += s h B^T
    }

    /**
     * The adapter's term for the few rows of a decoding step, two matrix-vector products per row: as sgemms these
     * rank-r products paid OpenBLAS's per-call packing and thread hand-off, which made a one-token step with an
     * adapter on every linear layer 2-4x the step without it.
     */
    private void loraRows(INDArray x, INDArray out) {
        int N = (int) x.size(0), I = (int) x.size(1), O = (int) out.size(1), r = lora.rank();
        if (loraPointers == null) {
            loraPointers = new FloatPointer[] {Blas.pointer(lora.a(), 0), Blas.pointer(lora.b(), 0), new FloatPointer(new float[r])};
        }
        FloatPointer a = loraPointers[0], b = loraPointers[1], h = loraPointers[2];
        FloatPointer xp = Blas.pointer(x, 0), op = Blas.pointer(out, 0);
        float s = (float) lora.scaling();
        for (int n = 0; n < N; n++) {
            Blas.wTimesX(a, r, I, xp.position((long) n * I), h);                 // h = A x_n
            Blas.wTimesXAdd(b, O, r, s, h, op.position((long) n * O));           // out_n += s B h
        }
    }

    /** The first rows of a scratch h for cached forwards, grown to the most rows asked. */
    private INDArray inferenceH(long rows) {
        if (loraScratch == null || loraScratch.size(0) < rows) loraScratch = Nd4j.create(lora.a().dataType(), Math.max(rows, 16), lora.rank());
        return rows == loraScratch.size(0) ? loraScratch : Nd4j.create(loraScratch.data(), rows, lora.rank());
    }

    /**
     * dx[N, I] = dout @ w^T (overwritten, or added to when {@code accumulateDx}; none when dx is null);
     * dw += x^T @ dout; db += the column sums of dout (not for a frozen base).
     */
    void backward(INDArray dout, INDArray x, INDArray dx, boolean accumulateDx) {
        backward(dout, x, dx, accumulateDx, null);
    }

    /** As above, with the adapter's gradients from what its forward kept ({@code saved}; dropout applied when it has a mask). */
    void backward(INDArray dout, INDArray x, INDArray dx, boolean accumulateDx, LoraSaved saved) {
        if (packed != null) {
            if (dx != null && compute == Compute.JAVA) tiledBackward(dout, dx, accumulateDx);
            else if (dx != null) packedBackward(dout, dx, accumulateDx);
        } else if (compute == Compute.JAVA) {
            if (dx != null) Blas.gemm(false, true, 1.0, dout, w, accumulateDx ? 1.0 : 0.0, dx);
            if (dw != null) Blas.gemm(true, false, 1.0, x, dout, 1.0, dw);
        } else {
            if (dx != null) Nd4j.gemm(dout, w, dx, false, true, 1.0, accumulateDx ? 1.0 : 0.0);
            if (dw != null) Nd4j.gemm(x, dout, dw, true, false, 1.0, 1.0);
        }
        if (db != null) addColumnSums(compute, dout, db);
        if (lora == null) return;
        if (saved == null) throw new IllegalStateException(name + ": an adapter's backward needs what its forward kept");
        INDArray in = saved.dropApplied ? saved.dropped : x;
        double s = lora.scaling();
        if (lora.db() != null) gemm(true, false, s, dout, saved.h, 1.0, lora.db());   // dB += s dout^T h
        gemm(false, false, s, dout, lora.b(), 0.0, saved.dh);                          // dh = s dout B
        if (lora.da() != null) gemm(true, false, 1.0, saved.dh, in, 1.0, lora.da());  // dA += dh^T drop(x)
        if (dx != null) {
            gemm(false, false, 1.0, saved.dh, lora.a(), 0.0, saved.dx);                // dh A
            if (compute == Compute.JAVA) {
                if (in != x) Kernels.mul(saved.dx, saved.mask, saved.dx);
                Kernels.add(dx, saved.dx, dx);
            } else {
                if (in != x) saved.dx.muli(saved.mask);
                dx.addi(saved.dx);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ packed weights

    /** Output rows of a tile the ND4J path dequantizes at a time: a tile, never the whole weight. */
    private static final int TILE = 256;

    /**
     * out[N, O] = x[N, I] @ W^T for the packed W [O, I]; with {@code q8}, x quantized to Q8_0 first (once, then the
     * product's rows split over the threads). The ND4J path multiplies the quantized activations' values (q · d) by the
     * dequantized tiles in its gemm: the same numbers, summed in float instead of as integer blocks.
     */
    private void packedForward(INDArray x, INDArray out, boolean q8) {
        int N = (int) x.size(0), I = packed.cols(), O = packed.rows();
        if (compute == Compute.JAVA) {
            FloatBuffer fx = Kernels.buf(x), fo = Kernels.buf(out);
            int ox = (int) x.offset(), oo = (int) out.offset();
            if (q8) { // inference: the rows quantized once, then every row's products
                float[] xs = scratch.in(N * I), ys = scratch.out(N * O);
                fx.get(ox, xs, 0, N * I);
                Q8Activations xq = q8In(N);
                Kernels.parallel(N, 32, (r0, r1) -> xq.quantizeRows(xs, r0, r1));
                Kernels.parallel(O, 64, (o0, o1) -> packed.matmul(xq, ys, o0, o1));
                fo.put(oo, ys, 0, N * O);
                return;
            }
            for (int r0 = 0; r0 < N; r0 += CHUNK_ROWS) {
                int n = Math.min(CHUNK_ROWS, N - r0);
                float[] xs = scratch.in(n * I), ys = scratch.out(n * O);
                fx.get(ox + r0 * I, xs, 0, n * I);
                Kernels.parallel(O, 64, (o0, o1) -> packed.matmul(xs, n, ys, o0, o1));
                fo.put(oo + r0 * O, ys, 0, n * O);
            }
            return;
        }
        if (q8) {
            float[] xs = x.dup('c').data().asFloat(); // packed weights are for FLOAT models
            Q8Activations xq = q8In(N);
            xq.quantizeRows(xs, 0, N);
            for (int r = 0; r < N; r++) xq.dequantizeRow(r, xs, r * I);
            x = Nd4j.createFromArray(xs).reshape(N, I);
        }
        for (int o0 = 0; o0 < O; o0 += TILE) {
            int o1 = Math.min(O, o0 + TILE);
            INDArray tile = tile(o0, o1, x.dataType());
            Nd4j.gemm(x, tile, out.get(NDArrayIndex.all(), NDArrayIndex.interval(o0, o1)), false, true, 1.0, 0.0);
        }
    }

    /**
     * Training's products with a packed W [O, I]: TILE rows of W at a time dequantized into a native tile, then an
     * OpenBLAS product with it. The weight is dequantized once per product (O I values against N O I multiply-adds),
     * and the tile is the only float32 copy of any of it.
     */
    private void tiledForward(INDArray x, INDArray out) {
        int N = (int) x.size(0), I = packed.cols(), O = packed.rows();
        for (int o0 = 0; o0 < O; o0 += TILE) {
            int o1 = Math.min(O, o0 + TILE);
            INDArray tile = nativeTile(o0, o1);
            Blas.gemmAt(true, N, o1 - o0, I, 1f, x, 0, I, tile, 0, I, 0f, out, o0, O); // out[:, o0:o1] = x tile^T
        }
    }

    /** dx[N, I] = dout[N, O] @ W (overwritten, or added to) for the packed W [O, I], tile by tile. */
    private void tiledBackward(INDArray dout, INDArray dx, boolean accumulate) {
        int N = (int) dout.size(0), I = packed.cols(), O = packed.rows();
        for (int o0 = 0; o0 < O; o0 += TILE) {
            int o1 = Math.min(O, o0 + TILE);
            INDArray tile = nativeTile(o0, o1);
            float beta = accumulate || o0 > 0 ? 1f : 0f;
            Blas.gemmAt(false, N, I, o1 - o0, 1f, dout, o0, O, tile, 0, I, beta, dx, 0, I); // dx += dout[:, o0:o1] tile
        }
    }

    /** Rows [o0, o1) of the packed weight dequantized into the shared native tile (row-major, I per row). */
    private INDArray nativeTile(int o0, int o1) {
        int I = packed.cols();
        INDArray tile = scratch.tile((long) TILE * I);
        FloatBuffer ft = Kernels.buf(tile);
        Kernels.parallel(o1 - o0, 16, (r0, r1) -> {
            float[] row = new float[I];
            for (int r = r0; r < r1; r++) {
                packed.dequantizeRow(o0 + r, row);
                ft.put(r * I, row, 0, I);
            }
        });
        return tile;
    }

    /** The buffer of this layer's quantized inputs, sized for N rows. */
    private Q8Activations q8In(int N) {
        if (scratch.q8 == null) scratch.q8 = new Q8Activations();
        scratch.q8.resize(N, packed.cols());
        return scratch.q8;
    }

    /** dx[N, I] = dout[N, O] @ W (overwritten, or added to) for the packed W [O, I], on the ND4J path. */
    private void packedBackward(INDArray dout, INDArray dx, boolean accumulate) {
        int O = packed.rows();
        if (!accumulate) dx.assign(0);
        for (int o0 = 0; o0 < O; o0 += TILE) {
            int o1 = Math.min(O, o0 + TILE);
            Nd4j.gemm(dout.get(NDArrayIndex.all(), NDArrayIndex.interval(o0, o1)), tile(o0, o1, dx.dataType()), dx, false, false, 1.0, 1.0);
        }
    }

    /** Rows [o0, o1) of the packed weight as floats [o1 - o0, I]. */
    private INDArray tile(int o0, int o1, org.nd4j.linalg.api.buffer.DataType dtype) {
        int I = packed.cols();
        float[] t = new float[(o1 - o0) * I], row = new float[I];
        for (int o = o0; o < o1; o++) {
            packed.dequantizeRow(o, row);
            System.arraycopy(row, 0, t, (o - o0) * I, I);
        }
        return Nd4j.createFromArray(t).reshape(o1 - o0, I).castTo(dtype);
    }

    /** c = alpha op(a) op(b) + beta c on this layer's path. */
    private void gemm(boolean transA, boolean transB, double alpha, INDArray a, INDArray b, double beta, INDArray c) {
        if (compute == Compute.JAVA) Blas.gemm(transA, transB, alpha, a, b, beta, c);
        else Nd4j.gemm(a, b, c, transA, transB, alpha, beta);
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
        return "Linear[" + name + ", " + in() + " -> " + (packed != null ? packed.rows() : w.size(1)) + (packed != null ? ", " + packed.type() : "")
                + (b == null ? ", no bias" : "") + "]";
    }
}
