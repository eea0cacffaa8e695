package dev.gpt4j.training;

import dev.gpt4j.data.SchemaDrills;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gpt4j.core.GptConfig;
import dev.gpt4j.tokenizer.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Every setting of a training run, read from a JSON or YAML file (snake_case keys) and overridable one by one
 * ({@code --set lr=1e-3}). Unknown keys and bad values are errors that name the key. The effective config is
 * written beside the checkpoints ({@code train-config.json}).
 *
 * <pre>
 * mode: finetune            # pretrain | finetune
 * out: runs/sql-small
 * init: runs/pretrain-small/model
 * steps: 3000
 * lr: 3.0e-4
 * </pre>
 */
public record TrainConfig(
        String mode, String out, String data, String corpus, String tokenizer, int vocabSize, String init,
        String preset, int contextLength, int embedDim, int layers, int heads, double dropout,
        int steps, int batchSize, int accumSteps, int seqLen,
        double lr, double minLr, int warmupSteps, double weightDecay, double gradClip, long seed,
        int evalEvery, int evalBatches, int sampleEvery, String samplePrompt,
        int checkpointEvery, int keepLast, int accuracyEvery, int accuracySample,
        int valPercent, String datasets, int maxExamples, int logEvery, String lora, String baseDtype) {

    public TrainConfig {
        if (!mode.equals("pretrain") && !mode.equals("finetune")) bad("mode", mode, "pretrain or finetune");
        if (out == null || out.isBlank()) bad("out", out, "an output folder");
        GptConfig.preset(preset); // names the preset if it is unknown
        nonNegative("vocab_size", vocabSize);
        nonNegative("context_length", contextLength);
        nonNegative("embed_dim", embedDim);
        nonNegative("layers", layers);
        nonNegative("heads", heads);
        if (!(dropout >= 0 && dropout < 1)) bad("dropout", dropout, "a number in [0, 1)");
        positive("steps", steps);
        positive("batch_size", batchSize);
        positive("accum_steps", accumSteps);
        nonNegative("seq_len", seqLen);
        if (!(lr > 0) || Double.isInfinite(lr)) bad("lr", lr, "a positive number");
        if (!(minLr >= 0 && minLr <= lr)) bad("min_lr", minLr, "a number in [0, lr]");
        nonNegative("warmup_steps", warmupSteps);
        if (!(weightDecay >= 0)) bad("weight_decay", weightDecay, "a number >= 0");
        if (!(gradClip >= 0)) bad("grad_clip", gradClip, "a number >= 0 (0 = no clipping)");
        nonNegative("eval_every", evalEvery);
        positive("eval_batches", evalBatches);
        nonNegative("sample_every", sampleEvery);
        nonNegative("checkpoint_every", checkpointEvery);
        positive("keep_last", keepLast);
        nonNegative("accuracy_every", accuracyEvery);
        nonNegative("accuracy_sample", accuracySample);
        if (valPercent < 0 || valPercent >= 100) bad("val_percent", valPercent, "a whole number in [0, 100)");
        datasetRepeats(datasets); // names the entry if one is bad
        nonNegative("max_examples", maxExamples);
        positive("log_every", logEvery);
        if (lora == null) lora = "";
        if (!lora.isBlank()) {
            try {
                dev.gpt4j.core.LoraConfig.parse(lora);
            } catch (IllegalArgumentException e) {
                bad("lora", lora, "LoRA settings such as r=16,alpha=16,dropout=0.05,targets=c_attn,attn.c_proj (" + e.getMessage() + ")");
            }
            if (!mode.equals("finetune")) bad("lora", lora, "empty in pretraining (an adapter needs a pretrained model: mode finetune)");
        }
        if (!java.util.List.of("f32", "f16", "q8_0", "q4_0", "nf4").contains(baseDtype)) {
            bad("base_dtype", baseDtype, "f32, f16, q8_0, q4_0 or nf4 (how the frozen base's linear weights are stored under a LoRA adapter)");
        }
        if (!baseDtype.equals("f32") && lora.isBlank()) bad("base_dtype", baseDtype, "f32 without lora (a full fine-tune trains float32 weights)");
        if (mode.equals("finetune") && (init == null || init.isBlank())) {
            bad("init", init, "the pretrained model folder to fine-tune (fine-tuning starts from a checkpoint)");
        }
    }

    /** The datasets to fine-tune on, each with how many times its training examples occur per epoch. */
    public Map<String, Integer> datasetRepeats() {
        return datasetRepeats(datasets);
    }

    /**
     * Parses {@code datasets}: a comma-separated list of {@code wikisql}, {@code spider}, {@code drills} and
     * {@code drills2} (synthetic questions on Spider's training databases, {@link SchemaDrills}), each optionally
     * followed by {@code *K} (K from 1 to 100), which repeats that dataset's training examples K times per epoch
     * (oversampling; its validation examples occur once).
     */
    static Map<String, Integer> datasetRepeats(String datasets) {
        Map<String, Integer> m = new LinkedHashMap<>();
        String expected = "a comma-separated list of wikisql, spider, drills, drills2, each optionally with *K (K from 1 to 100), e.g. wikisql,spider*3";
        if (datasets == null) bad("datasets", datasets, expected);
        for (String d : datasets.split(",", -1)) {
            String t = d.strip();
            int star = t.indexOf('*');
            String name = (star < 0 ? t : t.substring(0, star)).strip();
            int k = 1;
            if (star >= 0) {
                try {
                    k = Integer.parseInt(t.substring(star + 1).strip());
                } catch (NumberFormatException e) {
                    bad("datasets", datasets, expected + " ('" + t + "' has no whole number after *)");
                }
                if (k < 1 || k > 100) bad("datasets", datasets, expected + " ('" + t + "' repeats " + k + " times)");
            }
            if (!name.equals("wikisql") && !name.equals("spider") && !SchemaDrills.isDrills(name)) bad("datasets", datasets, expected + " ('" + t + "' is not one)");
            if (m.put(name, k) != null) bad("datasets", datasets, expected + " ('" + name + "' is listed twice)");
        }
        return m;
    }

    private static void positive(String key, long v) {
        if (v <= 0) bad(key, v, "a positive whole number");
    }

    private static void nonNegative(String key, long v) {
        if (v < 0) bad(key, v, "a whole number >= 0");
    }

    private static void bad(String key, Object value, String expected) {
        throw new IllegalArgumentException("config key '" + key + "': " + value + " is not valid; expected " + expected);
    }

    /** The defaults: pretraining the 'small' preset, with out required. */
    public static Map<String, Object> defaults() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", "pretrain");
        m.put("out", "");
        m.put("data", "");
        m.put("corpus", "");
        m.put("tokenizer", "");
        m.put("vocab_size", 8192);
        m.put("init", "");
        m.put("preset", "small");
        m.put("context_length", 0);
        m.put("embed_dim", 0);
        m.put("layers", 0);
        m.put("heads", 0);
        m.put("dropout", 0.0);
        m.put("steps", 1000);
        m.put("batch_size", 8);
        m.put("accum_steps", 1);
        m.put("seq_len", 0);
        m.put("lr", 6e-4);
        m.put("min_lr", 6e-5);
        m.put("warmup_steps", 100);
        m.put("weight_decay", 0.1);
        m.put("grad_clip", 1.0);
        m.put("seed", 42L);
        m.put("eval_every", 100);
        m.put("eval_batches", 10);
        m.put("sample_every", 0);
        m.put("sample_prompt", "<|question|>How many singers are there?<|sql|>");
        m.put("checkpoint_every", 200);
        m.put("keep_last", 2);
        m.put("accuracy_every", 0);
        m.put("accuracy_sample", 64);
        m.put("val_percent", 5);
        m.put("datasets", "wikisql,spider");
        m.put("max_examples", 0);
        m.put("log_every", 10);
        m.put("lora", "");
        m.put("base_dtype", "f32");
        return m;
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** Reads a config file ({@code .yaml}/{@code .yml} as YAML, anything else as JSON) over the defaults. */
    public static Map<String, Object> read(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        ObjectMapper mapper = name.endsWith(".yaml") || name.endsWith(".yml") ? YAML : JSON;
        JsonNode root;
        try {
            root = mapper.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the config: " + firstLine(e.getMessage()), e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": the config must be a mapping of keys to values");
        Map<String, Object> m = defaults();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!m.containsKey(e.getKey())) {
                throw new IllegalArgumentException(file + ": unknown config key '" + e.getKey() + "'; known keys: " + m.keySet());
            }
            JsonNode v = e.getValue();
            if (!v.isValueNode()) throw new IllegalArgumentException(file + ": config key '" + e.getKey() + "' must be a single value");
            m.put(e.getKey(), v.isNull() ? "" : v.asText());
        }
        return m;
    }

    /** Builds a config from {@code key=value} settings, e.g. {@code TrainConfig.of("mode=pretrain", "out=runs/p", "steps=500")}. */
    public static TrainConfig of(String... settings) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String s : settings) {
            int eq = s.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("a setting is key=value, not '" + s + "'");
            m.put(s.substring(0, eq).strip(), s.substring(eq + 1).strip());
        }
        return of(m);
    }

    /** Builds a config from keys and values (strings or numbers), converting and checking each. */
    public static TrainConfig of(Map<String, Object> values) {
        Map<String, Object> all = defaults();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            if (!all.containsKey(e.getKey())) throw new IllegalArgumentException("unknown config key '" + e.getKey() + "'; known keys: " + all.keySet());
            all.put(e.getKey(), e.getValue());
        }
        RecordComponent[] comps = TrainConfig.class.getRecordComponents();
        Object[] args = new Object[comps.length];
        Class<?>[] types = new Class<?>[comps.length];
        for (int i = 0; i < comps.length; i++) {
            String key = snake(comps[i].getName());
            Object v = all.get(key);
            types[i] = comps[i].getType();
            args[i] = convert(key, String.valueOf(v), types[i]);
        }
        try {
            return TrainConfig.class.getDeclaredConstructor(types).newInstance(args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** This config with {@code key=value} overrides applied (as the command line's {@code --set}). */
    public TrainConfig with(Map<String, String> overrides) {
        Map<String, Object> m = toMap();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!m.containsKey(e.getKey())) throw new IllegalArgumentException("unknown config key '" + e.getKey() + "'; known keys: " + m.keySet());
            m.put(e.getKey(), e.getValue());
        }
        return of(m);
    }

    private static Object convert(String key, String v, Class<?> type) {
        try {
            if (type == String.class) return v;
            if (type == int.class) return Integer.parseInt(v.strip());
            if (type == long.class) return Long.parseLong(v.strip());
            if (type == double.class) return Double.parseDouble(v.strip());
            if (type == boolean.class) {
                if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) throw new NumberFormatException();
                return Boolean.parseBoolean(v);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("config key '" + key + "': '" + v + "' is not " + (type == String.class ? "text" : "a " + type.getName()));
        }
        throw new IllegalStateException("unsupported type " + type);
    }

    static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    /** Every key and value, in the file's order. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (RecordComponent c : TrainConfig.class.getRecordComponents()) {
            try {
                m.put(snake(c.getName()), c.getAccessor().invoke(this));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return m;
    }

    /** The model shape: the preset with any non-zero overrides, and the tokenizer's vocabulary size. */
    public GptConfig modelConfig(int vocab) {
        GptConfig p = GptConfig.preset(preset);
        return new GptConfig(vocab, contextLength > 0 ? contextLength : p.contextLength(), embedDim > 0 ? embedDim : p.embedDim(),
                layers > 0 ? layers : p.layers(), heads > 0 ? heads : p.heads(), dropout, p.layerNormEps(), p.bias(), p.tiedHead());
    }

    /** Writes this config as JSON, atomically. */
    public void write(Path file) {
        try {
            AtomicFiles.write(file, o -> JSON.writeValue(o, toMap()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static String firstLine(String m) {
        if (m == null) return "";
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
