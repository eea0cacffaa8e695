package dev.gpt4j.core;

import dev.gpt4j.core.gguf.GgmlDecoder;
import dev.gpt4j.core.gguf.GgmlType;
import dev.gpt4j.core.gguf.GgufFile;
import dev.gpt4j.core.gguf.GgufWriter;
import dev.gpt4j.core.gguf.Gpt2Gguf;
import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.core.quant.QuantizedMatrix;
import dev.gpt4j.tokenizer.BpeTokenizer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model as one GGUF file for llama.cpp's {@code gpt2} architecture: weights, hyper-parameters and tokenizer
 * together. {@link #save} writes what llama.cpp loads; {@link #load} reads those files and the gpt2 files llama.cpp's
 * own converter and quantizer write. The mapping of names, layouts and keys is {@link Gpt2Gguf}'s; the container is
 * {@link GgufFile} / {@link GgufWriter}.
 *
 * <p><b>Reading.</b> The linear layers' weights stay in their stored format when it is one gpt4j computes with (F16,
 * Q8_0, Q4_0: packed {@link QuantizedMatrix}, the file's blocks as they are); F32 ones become ordinary float32
 * parameters (transposed back to GPT-2's Conv1D layout). Embeddings, LayerNorms, biases and an untied head are float32
 * whatever their type in the file (F32, F16, Q8_0, Q4_0 or Q6_K, dequantized exactly as ggml does). A file without
 * {@code output.weight}, or with one byte-identical to {@code token_embd.weight}, has a tied head, as llama.cpp
 * reads it. The vocabulary is the file's token list, padding tokens included ({@code [PAD<id>]}, UNUSED), so that it
 * matches {@code token_embd.weight}'s rows. Every tensor's presence, dimensions and type are checked before the model
 * is allocated; a problem is one {@link ModelFileException} naming the file and the tensor or key.
 *
 * <p><b>Writing</b> ({@link Gpt2Gguf#storedType} gives each tensor's type): F32, F16, Q8_0 or Q4_0 linear weights;
 * LayerNorms, biases and positions F32; the token embedding (and an untied head) F32, F16, or Q8_0 for both quantized
 * types. A weight the model already holds packed in the type asked for is written as its blocks are, without
 * quantizing again. Written atomically.
 */
public final class GgufModelFiles {
    private GgufModelFiles() {}

    /** A model read from a GGUF file and the tokenizer the same file holds. Closing it closes the model. */
    public record Model(GptModel model, BpeTokenizer tokenizer) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    /** Whether {@code file} is a regular file whose first bytes are GGUF's magic, "GGUF". */
    public static boolean isGguf(Path file) {
        if (!Files.isRegularFile(file)) return false;
        try (InputStream in = Files.newInputStream(file)) {
            return Arrays.equals(in.readNBytes(4), "GGUF".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------- reading

    /** The model (float32, linear weights packed as stored) and the tokenizer of a gpt2 GGUF file. */
    public static Model load(Path file) {
        return load(file, DataType.FLOAT);
    }

    /**
     * The model and tokenizer of a gpt2 GGUF file. In FLOAT, the linear weights stored as F16, Q8_0 or Q4_0 stay packed;
     * in DOUBLE (which has no packed weights), everything is dequantized.
     *
     * @throws ModelFileException naming the file and what is wrong: not gpt2, a missing or wrong key, a missing,
     *                            extra or misshapen tensor, a tensor type gpt4j does not read, a broken tokenizer
     */
    public static Model load(Path file, DataType dtype) {
        try (GgufFile f = GgufFile.open(file)) {
            GptConfig c = Gpt2Gguf.config(f);
            BpeTokenizer tok = Gpt2Gguf.tokenizer(f);
            checkTensors(f, c);
            return new Model(model(f, c, dtype), tok);
        }
    }

    /** The model of a gpt2 GGUF file (see {@link #load(Path, DataType)}). */
    public static GptModel loadModel(Path file, DataType dtype) {
        return load(file, dtype).model();
    }

    /** The tokenizer of a gpt2 GGUF file, without reading its weights. */
    public static BpeTokenizer loadTokenizer(Path file) {
        try (GgufFile f = GgufFile.open(file)) {
            return Gpt2Gguf.tokenizer(f);
        }
    }

    /** Every tensor a gpt2 of this config has is there, with its dimensions and a type gpt4j reads; no other is. */
    private static void checkTensors(GgufFile f, GptConfig c) {
        if (f.tensors().size() < 4 + 12L * c.layers()) {
            // fewer tensors than the block count needs: name the first missing one without listing all the names (an
            // absurd gpt2.block_count must not allocate)
            for (String top : List.of("token_embd.weight", "position_embd.weight", "output_norm.weight", "output_norm.bias")) {
                if (!f.hasTensor(top)) throw missing(f, c, top);
            }
            for (int l = 0; l < c.layers(); l++) {
                for (String part : List.of("attn_norm", "attn_qkv", "attn_output", "ffn_norm", "ffn_up", "ffn_down")) {
                    for (String kind : List.of(".weight", ".bias")) {
                        String name = "blk." + l + "." + part + kind;
                        if (!f.hasTensor(name)) throw missing(f, c, name);
                    }
                }
            }
        }
        List<String> expected = Gpt2Gguf.ggufTensorNames(c, f.hasTensor("output.weight"));
        Set<String> known = new HashSet<>(expected);
        for (GgufFile.TensorInfo t : f.tensors()) {
            if (!known.contains(t.name())) {
                throw new ModelFileException(f.file(), "tensor '" + t.name() + "' is not one of llama.cpp's gpt2 tensors for "
                        + c.layers() + " layers (" + Gpt2Gguf.KEY_BLOCK_COUNT + ")");
            }
        }
        for (String name : expected) {
            if (!f.hasTensor(name)) throw missing(f, c, name);
            GgufFile.TensorInfo t = f.tensor(name);
            long[] want = Gpt2Gguf.ggufDims(name, c);
            if (!Arrays.equals(t.ne(), want)) {
                long[] swapped = want.length == 2 ? new long[] {want[1], want[0]} : want;
                throw new ModelFileException(f.file(), "tensor '" + name + "' has dimensions " + Arrays.toString(t.ne())
                        + " (ggml order, ne[0] first), but the gpt2.* keys give " + Arrays.toString(want)
                        + (Arrays.equals(t.ne(), swapped) ? ": a GPT-2 Conv1D weight written without transposing it?" : ""));
            }
            f.requireSupported(name);
        }
    }

    private static ModelFileException missing(GgufFile f, GptConfig c, String name) {
        return new ModelFileException(f.file(), "missing tensor '" + name + "' (a gpt2 with " + c.layers() + " layers has "
                + (4 + 12L * c.layers()) + " tensors, and output.weight unless the head is tied)");
    }

    private static QuantType packable(GgmlType t) {
        return switch (t) {
            case F16 -> QuantType.F16;
            case Q8_0 -> QuantType.Q8_0;
            case Q4_0 -> QuantType.Q4_0;
            default -> null;
        };
    }

    private static GptModel model(GgufFile f, GptConfig c, DataType dtype) {
        Map<String, QuantizedMatrix> packed = new LinkedHashMap<>();
        if (dtype == DataType.FLOAT) {
            for (String g : Gpt2Gguf.ggufTensorNames(c, false)) {
                GgufFile.TensorInfo t = f.tensor(g);
                QuantType q = packable(t.type());
                if (!Gpt2Gguf.linearWeight(g) || q == null) continue;
                try {
                    // GGUF's [out][in] rows are a packed weight's [rows = out, cols = in]
                    packed.put(Gpt2Gguf.hfName(g), QuantizedMatrix.readGgml(q, (int) t.ne(1), (int) t.ne(0), f.tensorData(g)));
                } catch (IllegalArgumentException e) {
                    throw new ModelFileException(f.file(), "tensor '" + g + "' (" + t.type() + "): " + e.getMessage());
                }
            }
        }
        GptModel m = GptModel.empty(c, dtype, 0, packed);
        try {
            for (Parameters.Slot s : m.params().slots()) {
                String g = Gpt2Gguf.ggufName(s.name()); // lm_head.weight -> output.weight
                float[] v = Gpt2Gguf.fromGgufLayout(s.name(), GgmlDecoder.floats(f, g), c);
                INDArray src = Nd4j.createFromArray(v);
                m.params().get(s.name()).reshape(v.length).assign(dtype == DataType.FLOAT ? src : src.castTo(dtype));
            }
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------- writing

    /** Writes the model and its tokenizer as a gpt2 GGUF file, its weights as {@code weights}, named after the file. */
    public static void save(GptModel model, BpeTokenizer tokenizer, Path file, GgmlType weights) {
        String name = file.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
        save(model, tokenizer, file, weights, name);
    }

    /**
     * Writes the model and its tokenizer as a gpt2 GGUF file that llama.cpp loads (class comment), atomically.
     *
     * @param weights F32, F16, Q8_0 or Q4_0: the type of the linear layers' weights ({@link Gpt2Gguf#storedType})
     * @param name    {@code general.name}
     * @throws IllegalArgumentException if the model cannot be a llama.cpp gpt2 (no biases, an active LoRA adapter, a
     *                                  tokenizer without {@code <|endoftext|>} or with more ids than the model), or a
     *                                  weight does not fit the type (F16's range)
     */
    public static void save(GptModel model, BpeTokenizer tokenizer, Path file, GgmlType weights, String name) {
        GptConfig c = model.config();
        if (!c.bias()) throw new IllegalArgumentException("llama.cpp's gpt2 has biases in every layer; this model has none");
        if (model.activeAdapter() != null) {
            throw new IllegalArgumentException("the model has an active LoRA adapter: merge it into the weights (GptModel.mergeAdapter) "
                    + "or deactivate it before writing GGUF");
        }
        GgufWriter w = new GgufWriter()
                .putAll(Gpt2Gguf.hyperParameters(c, name, weights))
                .putAll(Gpt2Gguf.tokenizerMetadata(tokenizer, c.vocabSize()));
        for (String g : Gpt2Gguf.ggufTensorNames(c, false)) {
            long[] ne = Gpt2Gguf.ggufDims(g, c);
            GgmlType type = Gpt2Gguf.storedType(g, ne, weights);
            w.addTensor(g, ne, type, out -> writeTensor(model, g, ne, type, out));
        }
        w.write(file);
    }

    /** One tensor's bytes in {@code type}, GGUF's layout. */
    private static void writeTensor(GptModel model, String g, long[] ne, GgmlType type, OutputStream out) throws IOException {
        GptConfig c = model.config();
        String hf = Gpt2Gguf.hfName(g);
        QuantizedMatrix q = model.packedWeights().get(hf);
        QuantType qt = packable(type);
        if (q != null && q.type() == qt) {
            write(q, out); // already in this format: its blocks as they are
            return;
        }
        float[] v = q != null ? q.dequantize() // [out, in] already
                : Gpt2Gguf.toGgufLayout(hf, model.params().get(hf).castTo(DataType.FLOAT).dup('c').data().asFloat(), c);
        if (type == GgmlType.F32) {
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            out.write(b.array());
            return;
        }
        try {
            int cols = (int) ne[0], rows = v.length / cols;
            write(QuantizedMatrix.quantize(qt, v, rows, cols), out);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor " + hf + " (" + g + ") as " + type + ": " + e.getMessage(), e);
        }
    }

    private static void write(QuantizedMatrix q, OutputStream out) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) q.ggmlBytes());
        q.writeGgml(b);
        out.write(b.array());
    }
}
