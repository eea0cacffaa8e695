package dev.gpt4j.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.core.quant.Nf4Parts;
import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.core.quant.QuantizedMatrix;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A model as a Hugging Face GPT-2 folder: {@code config.json} and {@code model.safetensors} with HF's tensor
 * names ({@code wte.weight}, {@code h.0.attn.c_attn.weight}, ...) and layouts. Files written by
 * {@code transformers} load too: their {@code transformer.} prefix and attention-mask buffers are understood.
 *
 * <p>Packed linear weights (Q8_0, Q4_0, NF4) are gpt4j's own layout inside the same file (the package documentation
 * of {@code dev.gpt4j.core.quant} has the tensors of each format): the weight is [out, in] (not HF's [in, out]), and
 * the file's metadata key {@code gpt4j_weights} is a JSON object from weight name to its format ({@code "q8_0"},
 * {@code "q4_0"}, {@code "nf4"}). Everything else in such a file (embeddings, LayerNorms, biases) is float as usual. A
 * packed F16 weight is written as a plain HF F16 tensor.
 */
public final class ModelFiles {
    private ModelFiles() {}

    public static final String CONFIG = "config.json", WEIGHTS = "model.safetensors";

    /** Writes config.json and model.safetensors (float32) into {@code dir}, each atomically. */
    public static void save(GptModel model, Path dir) {
        save(model, dir, "F32", Map.of());
    }

    /** Metadata key of the packed weights' formats. */
    static final String PACKED_KEY = "gpt4j_weights";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * As {@link #save(GptModel, Path)}, with the float weights' dtype (F32 or F16) and extra config.json keys. Packed
     * weights are written in their own format.
     */
    public static void save(GptModel model, Path dir, String dtype, Map<String, Object> extraConfig) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        List<SafeTensors.Tensor> tensors = new ArrayList<>();
        ObjectNode formats = JSON.createObjectNode();
        Map<String, QuantizedMatrix> packed = model.packedWeights();
        for (Parameters.Slot s : Parameters.layout(model.config())) {
            QuantizedMatrix q = packed.get(s.name());
            if (q == null) tensors.add(SafeTensors.Tensor.of(s.name(), model.params().get(s.name()), dtype));
            else tensors.addAll(packedTensors(s.name(), q, formats));
        }
        Map<String, String> meta = new LinkedHashMap<>(Map.of("format", "pt", "producer", "gpt4j"));
        if (!formats.isEmpty()) meta.put(PACKED_KEY, formats.toString());
        SafeTensors.write(dir.resolve(WEIGHTS), tensors, meta);
        model.config().write(dir.resolve(CONFIG), extraConfig);
    }

    /** The tensors of one packed weight, and its format recorded in {@code formats} (none for F16: a plain HF tensor). */
    private static List<SafeTensors.Tensor> packedTensors(String name, QuantizedMatrix q, ObjectNode formats) {
        long rows = q.rows(), cols = q.cols();
        switch (q.type()) {
            case F16 -> {
                INDArray w = Nd4j.createFromArray(q.dequantize()).reshape(rows, cols).transpose().dup('c'); // HF's [in, out]
                return List.of(SafeTensors.Tensor.of(name, w, "F16"));
            }
            case Q8_0, Q4_0 -> {
                ByteBuffer b = ByteBuffer.allocate((int) q.ggmlBytes()).order(ByteOrder.LITTLE_ENDIAN);
                q.writeGgml(b);
                formats.put(name, q.type().name().toLowerCase(Locale.ROOT));
                return List.of(SafeTensors.Tensor.ofBytes(name, "U8", new long[] {rows, q.ggmlBytes() / rows}, b.array()));
            }
            default -> {
                Nf4Parts p = q.nf4Parts();
                formats.put(name, "nf4");
                List<SafeTensors.Tensor> t = new ArrayList<>();
                t.add(SafeTensors.Tensor.ofBytes(name, "U8", new long[] {rows, cols / 2}, p.packed()));
                if (!p.doubleQuant()) {
                    t.add(floats(name + ".absmax", p.absmax()));
                } else {
                    t.add(SafeTensors.Tensor.ofBytes(name + ".absmax", "U8", new long[] {p.absmaxCodes().length}, p.absmaxCodes()));
                    t.add(floats(name + ".nested_absmax", p.nestedAbsmax()));
                    t.add(floats(name + ".nested_offset", new float[] {p.nestedOffset()}));
                    t.add(floats(name + ".nested_quant_map", p.nestedMap()));
                }
                return t;
            }
        }
    }

    private static SafeTensors.Tensor floats(String name, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return SafeTensors.Tensor.ofBytes(name, "F32", new long[] {v.length}, b.array());
    }

    /** Loads a model folder, or a gpt2 GGUF file, in float32. */
    public static GptModel load(Path dir) {
        return load(dir, DataType.FLOAT);
    }

    /**
     * Loads a model folder, or a gpt2 GGUF file ({@link GgufModelFiles#loadModel}); errors name the file and what is
     * wrong (missing tensor, wrong shape, bad config).
     */
    public static GptModel load(Path dir, DataType dtype) {
        return load(dir, dtype, false, null);
    }

    /**
     * As above; {@code frozen}: without a gradient buffer; {@code packAs} (not null): the linear weights stored in that
     * format as they are read, one tensor at a time ({@link GptModel#loadFrozen}).
     */
    static GptModel load(Path dir, DataType dtype, boolean frozen, QuantType packAs) {
        if (Files.isRegularFile(dir)) {
            if (GgufModelFiles.isGguf(dir)) {
                GptModel m = GgufModelFiles.loadModel(dir, dtype);
                if (frozen) m.freezeBase();
                if (packAs != null) m.storeWeightsAs(packAs, packAs == QuantType.NF4);
                return m;
            }
            throw new ModelFileException(dir, "neither a model folder nor a GGUF file (a GGUF file starts with the bytes 'GGUF')");
        }
        if (!Files.isDirectory(dir)) throw new ModelFileException(dir, "no such model folder");
        Path cfgFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfgFile)) throw new ModelFileException(cfgFile, "missing (a model folder holds config.json and model.safetensors)");
        GptConfig cfg = GptConfig.read(cfgFile);
        SafeTensors.Reader r = SafeTensors.open(dir.resolve(WEIGHTS));
        Map<String, QuantizedMatrix> packed = new LinkedHashMap<>(readPacked(r, cfg, dtype));
        Map<String, String> byOurName = new LinkedHashMap<>();
        Set<String> unknown = new HashSet<>();
        for (String name : r.entries().keySet()) {
            if (packed.containsKey(name) || packedPart(name, packed)) continue;
            String ours = name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
            if (ours.matches("h\\.\\d+\\.attn\\.(bias|masked_bias)")) continue; // HF's causal-mask buffers
            if (ours.equals("lm_head.weight") && cfg.tiedHead()) continue;     // a tied head's copy
            if (byOurName.putIfAbsent(ours, name) != null) {
                throw new ModelFileException(r.file(), "tensor " + ours + " appears twice (with and without the transformer. prefix)");
            }
            unknown.add(ours);
        }
        if (packAs != null) {
            if (dtype != DataType.FLOAT) throw new IllegalArgumentException("packed weights are for float32 models, not " + dtype);
            for (Parameters.Slot s : Parameters.layout(cfg)) {
                String fileName = byOurName.get(s.name());
                if (!isLinearWeight(s.name()) || fileName == null || packed.containsKey(s.name())) continue;
                SafeTensors.Entry e = r.entries().get(fileName);
                if (!java.util.Arrays.equals(e.shape(), s.shape())) {
                    throw new ModelFileException(r.file(), "tensor " + fileName + " has shape " + java.util.Arrays.toString(e.shape())
                            + ", but config.json says " + java.util.Arrays.toString(s.shape()));
                }
                try (INDArray w = Nd4j.create(DataType.FLOAT, s.shape())) { // one tensor's float32 copy at a time, freed at once
                    r.readInto(fileName, w);
                    packed.put(s.name(), GptModel.pack(w, packAs, packAs == QuantType.NF4));
                }
                unknown.remove(s.name());
            }
        }
        GptModel m = GptModel.empty(cfg, dtype, 0, packed, !frozen);
        for (Parameters.Slot s : m.params().slots()) {
            String fileName = byOurName.get(s.name());
            if (fileName == null) throw new ModelFileException(r.file(), "missing tensor " + s.name() + " (shape " + java.util.Arrays.toString(s.shape()) + ")");
            SafeTensors.Entry e = r.entries().get(fileName);
            if (!java.util.Arrays.equals(e.shape(), s.shape())) {
                throw new ModelFileException(r.file(), "tensor " + fileName + " has shape " + java.util.Arrays.toString(e.shape())
                        + ", but config.json says " + java.util.Arrays.toString(s.shape()));
            }
            r.readInto(fileName, m.params().get(s.name()));
            unknown.remove(s.name());
        }
        if (!unknown.isEmpty()) throw new ModelFileException(r.file(), "tensors that a GPT-2 of this config does not have: " + unknown);
        return m;
    }

    /** h.N.attn.c_attn.weight and the other linear layers' weights (what packing stores). */
    private static boolean isLinearWeight(String name) {
        return name.matches("h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight");
    }

    private static boolean packedPart(String name, Map<String, QuantizedMatrix> packed) {
        int dot = name.lastIndexOf(".weight.");
        return dot > 0 && packed.containsKey(name.substring(0, dot + ".weight".length()));
    }

    /** The packed weights the file's metadata lists, read and checked against the config's shapes. */
    private static Map<String, QuantizedMatrix> readPacked(SafeTensors.Reader r, GptConfig cfg, DataType dtype) {
        String json = r.metadata().get(PACKED_KEY);
        if (json == null) return Map.of();
        if (dtype != DataType.FLOAT) throw new ModelFileException(r.file(), "packed weights load into float32 models only, not " + dtype);
        JsonNode formats;
        try {
            formats = JSON.readTree(json);
        } catch (IOException e) {
            throw new ModelFileException(r.file(), "metadata " + PACKED_KEY + " is not valid JSON");
        }
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Parameters.Slot s : Parameters.layout(cfg)) shapes.put(s.name(), s.shape());
        Map<String, QuantizedMatrix> out = new LinkedHashMap<>();
        for (var it = formats.fields(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getKey();
            long[] hf = shapes.get(name);
            if (hf == null || hf.length != 2 || !name.matches("h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight")) {
                throw new ModelFileException(r.file(), PACKED_KEY + " lists " + name + ", which is no linear layer's weight of this model");
            }
            int rows = (int) hf[1], cols = (int) hf[0]; // packed: [out, in]
            QuantType type;
            try {
                type = QuantType.parse(e.getValue().asText());
            } catch (IllegalArgumentException x) {
                throw new ModelFileException(r.file(), name + ": " + x.getMessage());
            }
            try {
                out.put(name, switch (type) {
                    case Q8_0, Q4_0 -> QuantizedMatrix.readGgml(type, rows, cols, r.bytes(name));
                    case NF4 -> {
                        byte[] pk = bytes(r, name);
                        boolean dq = r.entries().containsKey(name + ".nested_absmax");
                        yield QuantizedMatrix.fromNf4Parts(rows, cols, dq
                                ? new Nf4Parts(pk, null, bytes(r, name + ".absmax"), r.floats(name + ".nested_absmax"),
                                r.floats(name + ".nested_offset")[0], r.floats(name + ".nested_quant_map"))
                                : new Nf4Parts(pk, r.floats(name + ".absmax"), null, null, 0f, null));
                    }
                    case F16 -> throw new IllegalArgumentException("F16 weights are plain F16 tensors, not listed in " + PACKED_KEY);
                });
            } catch (IllegalArgumentException x) {
                throw new ModelFileException(r.file(), name + " (" + type + ", [" + rows + ", " + cols + "]): " + x.getMessage());
            }
        }
        return out;
    }

    private static byte[] bytes(SafeTensors.Reader r, String name) {
        ByteBuffer b = r.bytes(name);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
