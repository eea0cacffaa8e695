package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

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
 */
public final class ModelFiles {
    private ModelFiles() {}

    public static final String CONFIG = "config.json", WEIGHTS = "model.safetensors";

    /** Writes config.json and model.safetensors (float32) into {@code dir}, each atomically. */
    public static void save(GptModel model, Path dir) {
        save(model, dir, "F32", Map.of());
    }

    /** As {@link #save(GptModel, Path)}, with the weights' dtype (F32 or F16) and extra config.json keys. */
    public static void save(GptModel model, Path dir, String dtype, Map<String, Object> extraConfig) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        for (Parameters.Slot s : model.params().slots()) tensors.put(s.name(), model.params().get(s.name()));
        SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt", "producer", "gpt4j"), dtype);
        model.config().write(dir.resolve(CONFIG), extraConfig);
    }

    /** Loads a model folder in float32. */
    public static GptModel load(Path dir) {
        return load(dir, DataType.FLOAT);
    }

    /** Loads a model folder; errors name the file and what is wrong (missing tensor, wrong shape, bad config). */
    public static GptModel load(Path dir, DataType dtype) {
        if (!Files.isDirectory(dir)) throw new ModelFileException(dir, "no such model folder");
        Path cfgFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfgFile)) throw new ModelFileException(cfgFile, "missing (a model folder holds config.json and model.safetensors)");
        GptConfig cfg = GptConfig.read(cfgFile);
        SafeTensors.Reader r = SafeTensors.open(dir.resolve(WEIGHTS));
        Map<String, String> byOurName = new LinkedHashMap<>();
        Set<String> unknown = new HashSet<>();
        for (String name : r.entries().keySet()) {
            String ours = name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
            if (ours.matches("h\\.\\d+\\.attn\\.(bias|masked_bias)")) continue; // HF's causal-mask buffers
            if (ours.equals("lm_head.weight") && cfg.tiedHead()) continue;     // a tied head's copy
            if (byOurName.putIfAbsent(ours, name) != null) {
                throw new ModelFileException(r.file(), "tensor " + ours + " appears twice (with and without the transformer. prefix)");
            }
            unknown.add(ours);
        }
        GptModel m = GptModel.empty(cfg, dtype, 0);
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
}
