package dev.gpt4j.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.tokenizer.AtomicFiles;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The weights of a LoRA adapter for a GPT-2 model: for each targeted linear layer of each block, A [r, in] and B [out,
 * r], in one flat buffer with its gradients ({@link Parameters}), so that {@link AdamW} trains them as it trains a
 * model. Initialised as PEFT does: A Kaiming-uniform with a = √5 (uniform in ±1/√in), B zero, so a new adapter changes
 * nothing until it is trained.
 *
 * <p>Files in PEFT's format, so that Hugging Face users load gpt4j adapters and the reverse: {@code adapter_config.json}
 * ({@code peft_type: "LORA"}, {@code task_type: "CAUSAL_LM"}, r, lora_alpha, lora_dropout, target_modules,
 * {@code fan_in_fan_out: true} for GPT-2's Conv1D layers, use_rslora, base_model_name_or_path) and
 * {@code adapter_model.safetensors} with {@code base_model.model.transformer.h.N.attn.c_attn.lora_A.weight} [r, in] and
 * {@code .lora_B.weight} [out, r].
 */
public final class LoraAdapter implements AutoCloseable {
    private boolean closed;

    public static final String CONFIG = "adapter_config.json", WEIGHTS = "adapter_model.safetensors";
    /** PEFT's prefix of a GPT-2 model's tensor names in an adapter file. */
    static final String PEFT_PREFIX = "base_model.model.transformer.";

    private final LoraConfig config;
    private final GptConfig base;
    private final String baseModel;
    private final Parameters params;

    private LoraAdapter(LoraConfig config, GptConfig base, String baseModel, DataType dtype) {
        this.config = config;
        this.base = base;
        this.baseModel = baseModel == null ? "" : baseModel;
        this.params = new Parameters(layout(config, base), dtype);
    }

    /** A new adapter for models of {@code base}, initialised from {@code seed} as PEFT does. */
    public static LoraAdapter create(LoraConfig config, GptConfig base, String baseModel, long seed) {
        return create(config, base, baseModel, seed, DataType.FLOAT);
    }

    /** As {@link #create(LoraConfig, GptConfig, String, long)} in FLOAT or DOUBLE (gradient checks). */
    public static LoraAdapter create(LoraConfig config, GptConfig base, String baseModel, long seed, DataType dtype) {
        LoraAdapter a = new LoraAdapter(config, base, baseModel, dtype);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (Parameters.Slot s : a.params.slots()) {
            if (!s.name().endsWith("lora_A.weight")) continue; // B starts at zero
            double bound = 1.0 / Math.sqrt(s.shape()[1]); // Kaiming-uniform, a = √5: gain √(2/6) · √(3/fan_in)
            double[] v = new double[(int) s.size()];
            for (int i = 0; i < v.length; i++) v[i] = (2 * rnd.nextDouble() - 1) * bound;
            a.params.get(s.name()).assign(org.nd4j.linalg.factory.Nd4j.createFromArray(v).castTo(dtype).reshape(s.shape()));
        }
        return a;
    }

    /** A [r, in] and B [out, r] for each targeted layer of each block, named after the layer. */
    static List<Parameters.Slot> layout(LoraConfig c, GptConfig g) {
        Parameters.Layout s = new Parameters.Layout();
        for (int l = 0; l < g.layers(); l++) {
            for (String layer : c.targetedLayers()) {
                long[] io = inOut(layer, g);
                s.add(name(l, layer, "A"), c.r(), io[0]);
                s.add(name(l, layer, "B"), io[1], c.r());
            }
        }
        return s.slots();
    }

    /** {in, out} features of a block's linear layer. */
    static long[] inOut(String layer, GptConfig g) {
        long C = g.embedDim();
        return switch (layer) {
            case "attn.c_attn" -> new long[] {C, 3 * C};
            case "attn.c_proj" -> new long[] {C, C};
            case "mlp.c_fc" -> new long[] {C, 4 * C};
            case "mlp.c_proj" -> new long[] {4 * C, C};
            default -> throw new IllegalArgumentException("no linear layer " + layer);
        };
    }

    /** {@code h.0.attn.c_attn.lora_A.weight}. */
    static String name(int block, String layer, String which) {
        return "h." + block + "." + layer + ".lora_" + which + ".weight";
    }

    public LoraConfig config() {
        return config;
    }

    /** The shape of the models this adapter fits. */
    public GptConfig baseConfig() {
        return base;
    }

    /** What the adapter was trained on top of ({@code base_model_name_or_path}), "" if unknown. */
    public String baseModel() {
        return baseModel;
    }

    /** The A and B weights and their gradients. */
    public Parameters params() {
        return params;
    }

    /** Number of trainable scalars. */
    public long parameterCount() {
        return params.size();
    }

    // ------------------------------------------------------------------------------------------ PEFT files

    private static final ObjectMapper JSON = new ObjectMapper();

    /** adapter_config.json's content. */
    public ObjectNode configJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("peft_type", "LORA");
        n.put("task_type", "CAUSAL_LM");
        n.put("r", config.r());
        n.put("lora_alpha", config.alpha());
        n.put("lora_dropout", config.dropout());
        var t = n.putArray("target_modules");
        config.targets().forEach(t::add);
        n.put("fan_in_fan_out", true); // GPT-2's Conv1D stores [in, out]
        n.put("bias", "none");
        n.put("use_rslora", config.rsLora());
        n.put("base_model_name_or_path", baseModel);
        n.put("inference_mode", true);
        n.put("init_lora_weights", true);
        n.putNull("modules_to_save");
        n.putNull("layers_to_transform");
        return n;
    }

    /** Writes adapter_config.json and adapter_model.safetensors (F32) into {@code dir}, each atomically. */
    public void save(Path dir) {
        try {
            Files.createDirectories(dir);
            Map<String, INDArray> tensors = new LinkedHashMap<>();
            for (Parameters.Slot s : params.slots()) tensors.put(PEFT_PREFIX + s.name(), params.get(s.name()));
            SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt", "producer", "gpt4j"), "F32");
            ObjectNode cfg = configJson();
            AtomicFiles.write(dir.resolve(CONFIG), out -> JSON.writerWithDefaultPrettyPrinter().writeValue(out, cfg));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the adapter to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Loads a PEFT LoRA folder for models of {@code base}, in float32. */
    public static LoraAdapter load(Path dir, GptConfig base) {
        return load(dir, base, DataType.FLOAT);
    }

    /**
     * Loads a PEFT LoRA folder for models of {@code base}. Errors name the file and what is wrong: not LoRA, a rank of 0,
     * an unknown target module, a missing A or B, shapes that do not fit the base model, tensors it cannot place.
     */
    public static LoraAdapter load(Path dir, GptConfig base, DataType dtype) {
        if (!Files.isDirectory(dir)) throw new ModelFileException(dir, "no such adapter folder");
        Path cfgFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfgFile)) throw new ModelFileException(cfgFile, "missing (an adapter folder holds " + CONFIG + " and " + WEIGHTS + ")");
        JsonNode n;
        try {
            n = JSON.readTree(cfgFile.toFile());
        } catch (IOException e) {
            throw new ModelFileException(cfgFile, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        LoraConfig config;
        String baseModel;
        try {
            config = configFrom(n);
            baseModel = n.path("base_model_name_or_path").asText("");
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(cfgFile, e.getMessage());
        }
        LoraAdapter a = new LoraAdapter(config, base, baseModel, dtype);
        SafeTensors.Reader r = SafeTensors.open(dir.resolve(WEIGHTS));
        Set<String> unplaced = new HashSet<>(r.entries().keySet());
        for (Parameters.Slot s : a.params.slots()) {
            String fileName = findTensor(r, s.name());
            if (fileName == null) {
                throw new ModelFileException(r.file(), "missing tensor " + PEFT_PREFIX + s.name() + " (shape " + java.util.Arrays.toString(s.shape())
                        + "): the config targets " + String.join(", ", config.targets()));
            }
            SafeTensors.Entry e = r.entries().get(fileName);
            if (!java.util.Arrays.equals(e.shape(), s.shape())) {
                throw new ModelFileException(r.file(), "tensor " + fileName + " has shape " + java.util.Arrays.toString(e.shape()) + ", but a rank-"
                        + config.r() + " adapter of this model (n_embd " + base.embedDim() + ") needs " + java.util.Arrays.toString(s.shape()));
            }
            r.readInto(fileName, a.params.get(s.name()));
            unplaced.remove(fileName);
        }
        if (!unplaced.isEmpty()) {
            throw new ModelFileException(r.file(), "tensors this adapter's config does not account for (other layers or targets, or a model with "
                    + "more blocks than " + base.layers() + "): " + new java.util.TreeSet<>(unplaced));
        }
        return a;
    }

    /** The file's name for one of our tensors: PEFT's, with or without the adapter's name ("default") in it. */
    private static String findTensor(SafeTensors.Reader r, String ours) {
        for (String candidate : List.of(PEFT_PREFIX + ours, PEFT_PREFIX + ours.replace(".weight", ".default.weight"), ours)) {
            if (r.entries().containsKey(candidate)) return candidate;
        }
        return null;
    }

    /** A LoraConfig from PEFT's adapter_config.json; the message names the key at fault. */
    static LoraConfig configFrom(JsonNode n) {
        String type = n.path("peft_type").asText("");
        if (!type.equals("LORA")) throw new IllegalArgumentException("peft_type is \"" + type + "\", not \"LORA\": not a LoRA adapter");
        if (!n.path("r").isIntegralNumber()) throw new IllegalArgumentException("r must be a whole number, not " + n.path("r"));
        int r = n.path("r").intValue();
        if (r <= 0) throw new IllegalArgumentException("r is " + r + ": a LoRA rank must be at least 1");
        double alpha = n.has("lora_alpha") ? n.path("lora_alpha").asDouble() : 8; // PEFT's default
        double dropout = n.path("lora_dropout").asDouble(0);
        List<String> targets = new ArrayList<>();
        JsonNode t = n.path("target_modules");
        if (t.isTextual()) targets.add(t.asText());
        else for (JsonNode x : t) targets.add(x.asText());
        if (targets.isEmpty()) throw new IllegalArgumentException("target_modules is empty or missing");
        String bias = n.path("bias").asText("none");
        if (!bias.equals("none")) throw new IllegalArgumentException("bias is \"" + bias + "\": only \"none\" is supported (no trained biases)");
        if (n.hasNonNull("modules_to_save") && n.get("modules_to_save").size() > 0) {
            throw new IllegalArgumentException("modules_to_save " + n.get("modules_to_save") + " is not supported (LoRA weights only)");
        }
        return new LoraConfig(r, alpha, dropout, targets, n.path("use_rslora").asBoolean(false));
    }

    @Override
    public void close() {
        if (closed) return; // once: the model that holds it closes it too
        closed = true;
        params.values().close();
        if (params.hasGrads()) params.grads().close();
    }

    @Override
    public String toString() {
        return "LoraAdapter[" + config + ", " + String.format("%,d", params.size()) + " parameters"
                + (baseModel.isEmpty() ? "" : ", on " + baseModel) + "]";
    }
}
