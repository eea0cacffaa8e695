package dev.gpt4j.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The shape of a GPT-2-family model. Stored as {@code config.json} with Hugging Face GPT-2 key names
 * ({@code vocab_size}, {@code n_positions}, {@code n_embd}, {@code n_layer}, {@code n_head}, ...), plus
 * {@code gpt4j_bias} where HF has no key; a config written by {@code transformers} loads.
 *
 * @param vocabSize     V, number of token ids
 * @param contextLength T_max, longest sequence ({@code n_positions})
 * @param embedDim      C, channels ({@code n_embd})
 * @param layers        transformer blocks ({@code n_layer})
 * @param heads         attention heads H ({@code n_head}); C must be a multiple of H
 * @param dropout       dropout probability on embeddings, attention weights and residual branches
 * @param layerNormEps  epsilon in LayerNorm's denominator (GPT-2: 1e-5)
 * @param bias          whether Linear and LayerNorm layers have biases (GPT-2: true)
 * @param tiedHead      whether the LM head reuses the token embedding ({@code tie_word_embeddings})
 */
public record GptConfig(int vocabSize, int contextLength, int embedDim, int layers, int heads, double dropout,
                        double layerNormEps, boolean bias, boolean tiedHead) {

    public GptConfig {
        positive("vocab_size", vocabSize);
        positive("n_positions", contextLength);
        positive("n_embd", embedDim);
        positive("n_layer", layers);
        positive("n_head", heads);
        if (embedDim % heads != 0) {
            throw new IllegalArgumentException("n_embd (" + embedDim + ") must be a multiple of n_head (" + heads + ")");
        }
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("dropout must be in [0, 1), not " + dropout);
        if (!(layerNormEps > 0)) throw new IllegalArgumentException("layer_norm_epsilon must be > 0, not " + layerNormEps);
    }

    private static void positive(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(key + " must be a positive integer, not " + v);
    }

    /** Channels per head, C / H. */
    public int headDim() {
        return embedDim / heads;
    }

    /** GPT-2 124M as in the book: V 50257, T 1024, C 768, 12 layers, 12 heads, dropout 0.1, tied head. */
    public static GptConfig gpt2Small124M() {
        return new GptConfig(50257, 1024, 768, 12, 12, 0.1, 1e-5, true, true);
    }

    /** 'tiny': V 4096, T 128, C 128, 2 layers, 4 heads (tests, notebooks, benchmarks). */
    public static GptConfig tiny() {
        return new GptConfig(4096, 128, 128, 2, 4, 0.0, 1e-5, true, true);
    }

    /** 'small': V 8192, T 256, C 256, 4 layers, 4 heads. */
    public static GptConfig small() {
        return new GptConfig(8192, 256, 256, 4, 4, 0.0, 1e-5, true, true);
    }

    /** 'medium': V 16384, T 256, C 384, 6 layers, 6 heads. */
    public static GptConfig medium() {
        return new GptConfig(16384, 256, 384, 6, 6, 0.0, 1e-5, true, true);
    }

    /** A preset by name: tiny, small, medium or gpt2-124m. */
    public static GptConfig preset(String name) {
        return switch (name.toLowerCase()) {
            case "tiny" -> tiny();
            case "small" -> small();
            case "medium" -> medium();
            case "gpt2-124m", "gpt2" -> gpt2Small124M();
            default -> throw new IllegalArgumentException("unknown preset '" + name + "': tiny, small, medium or gpt2-124m");
        };
    }

    public GptConfig withVocabSize(int v) {
        return new GptConfig(v, contextLength, embedDim, layers, heads, dropout, layerNormEps, bias, tiedHead);
    }

    public GptConfig withContextLength(int t) {
        return new GptConfig(vocabSize, t, embedDim, layers, heads, dropout, layerNormEps, bias, tiedHead);
    }

    public GptConfig withDropout(double p) {
        return new GptConfig(vocabSize, contextLength, embedDim, layers, heads, p, layerNormEps, bias, tiedHead);
    }

    public GptConfig withTiedHead(boolean tied) {
        return new GptConfig(vocabSize, contextLength, embedDim, layers, heads, dropout, layerNormEps, bias, tied);
    }

    public GptConfig withBias(boolean b) {
        return new GptConfig(vocabSize, contextLength, embedDim, layers, heads, dropout, layerNormEps, b, tiedHead);
    }

    // ------------------------------------------------------------------------------------------ JSON

    private static final ObjectMapper JSON = new ObjectMapper();

    /** This config as Hugging Face GPT-2 {@code config.json} content. */
    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("model_type", "gpt2");
        n.putArray("architectures").add("GPT2LMHeadModel");
        n.put("vocab_size", vocabSize);
        n.put("n_positions", contextLength);
        n.put("n_ctx", contextLength);
        n.put("n_embd", embedDim);
        n.put("n_layer", layers);
        n.put("n_head", heads);
        n.putNull("n_inner");
        n.put("activation_function", "gelu_new");
        n.put("resid_pdrop", dropout);
        n.put("embd_pdrop", dropout);
        n.put("attn_pdrop", dropout);
        n.put("layer_norm_epsilon", layerNormEps);
        n.put("initializer_range", 0.02);
        n.put("tie_word_embeddings", tiedHead);
        n.put("gpt4j_bias", bias);
        return n;
    }

    /**
     * Reads a {@code config.json} object. Keys gpt4j does not use (HF writes many) are ignored; a used key with a
     * value gpt4j cannot honour is an error naming the key.
     */
    public static GptConfig fromJson(JsonNode n) {
        String type = text(n, "model_type", "gpt2");
        if (!type.equals("gpt2")) throw new IllegalArgumentException("model_type must be \"gpt2\", not \"" + type + "\"");
        String act = text(n, "activation_function", "gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            throw new IllegalArgumentException("activation_function \"" + act + "\" is not supported (gelu_new, the tanh form, is)");
        }
        int embd = integer(n, "n_embd", null);
        JsonNode inner = n.get("n_inner");
        if (inner != null && !inner.isNull() && inner.asInt() != 4 * embd) {
            throw new IllegalArgumentException("n_inner must be null or 4 * n_embd = " + 4 * embd + ", not " + inner);
        }
        double resid = number(n, "resid_pdrop", 0), embdDrop = number(n, "embd_pdrop", resid), attn = number(n, "attn_pdrop", resid);
        if (resid != embdDrop || resid != attn) {
            throw new IllegalArgumentException("resid_pdrop, embd_pdrop and attn_pdrop must be equal (gpt4j has one dropout), not "
                    + resid + ", " + embdDrop + ", " + attn);
        }
        JsonNode positions = n.has("n_positions") ? n.get("n_positions") : n.get("n_ctx");
        if (positions == null) throw new IllegalArgumentException("missing key n_positions");
        JsonNode bias = n.get("gpt4j_bias"), tied = n.get("tie_word_embeddings");
        if (bias != null && !bias.isBoolean()) throw new IllegalArgumentException("gpt4j_bias must be true or false, not " + bias);
        if (tied != null && !tied.isBoolean()) throw new IllegalArgumentException("tie_word_embeddings must be true or false, not " + tied);
        return new GptConfig(integer(n, "vocab_size", null), asInt("n_positions", positions), embd, integer(n, "n_layer", null),
                integer(n, "n_head", null), resid, number(n, "layer_norm_epsilon", 1e-5),
                bias == null || bias.booleanValue(), tied == null || tied.booleanValue());
    }

    private static String text(JsonNode n, String key, String dflt) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isTextual()) throw new IllegalArgumentException(key + " must be a string, not " + v);
        return v.textValue();
    }

    private static int integer(JsonNode n, String key, Integer dflt) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (dflt == null) throw new IllegalArgumentException("missing key " + key);
            return dflt;
        }
        return asInt(key, v);
    }

    private static int asInt(String key, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new IllegalArgumentException(key + " must be an integer, not " + v);
        return v.intValue();
    }

    private static double number(JsonNode n, String key, double dflt) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new IllegalArgumentException(key + " must be a number, not " + v);
        return v.doubleValue();
    }

    /** Reads {@code config.json}; errors name the file. */
    public static GptConfig read(Path file) {
        try {
            return fromJson(JSON.readTree(file.toFile()));
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, e.getMessage());
        } catch (IOException e) {
            throw new ModelFileException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** Writes {@code config.json} atomically, with any extra keys (e.g. our own settings) added. */
    public void write(Path file, Map<String, Object> extra) {
        ObjectNode n = toJson();
        extra.forEach((k, v) -> n.set(k, JSON.valueToTree(v)));
        try {
            dev.gpt4j.tokenizer.AtomicFiles.write(file, out -> JSON.writerWithDefaultPrettyPrinter().writeValue(out, n));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "GptConfig[V=" + vocabSize + ", T=" + contextLength + ", C=" + embedDim + ", L=" + layers + ", H=" + heads
                + ", dropout=" + dropout + ", eps=" + layerNormEps + (bias ? "" : ", no bias") + (tiedHead ? ", tied head" : ", separate head") + "]";
    }
}
