package dev.gpt4j.core.gguf;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.ModelFileException;
import dev.gpt4j.tokenizer.BpeTokenizer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a GPT-2 model is spelled in GGUF for llama.cpp's {@code gpt2} architecture: tensor names and layouts, the
 * {@code gpt2.*} hyper-parameter keys, and the tokenizer keys. A pure mapping: it reads and builds names, shapes and
 * metadata; the model code decides what to do with them.
 *
 * <h2>Tensors</h2>
 * <pre>
 * gpt4j / Hugging Face          GGUF                        HF shape   GGUF ne (ne0, ne1)
 * wte.weight                    token_embd.weight           [V, C]     {C, V}
 * wpe.weight                    position_embd.weight        [T, C]     {C, T}
 * h.N.ln_1.weight / .bias       blk.N.attn_norm.*           [C]        {C}
 * h.N.attn.c_attn.weight        blk.N.attn_qkv.weight       [C, 3C]    {C, 3C}   transposed
 * h.N.attn.c_attn.bias          blk.N.attn_qkv.bias         [3C]       {3C}
 * h.N.attn.c_proj.weight        blk.N.attn_output.weight    [C, C]     {C, C}    transposed
 * h.N.attn.c_proj.bias          blk.N.attn_output.bias      [C]        {C}
 * h.N.ln_2.weight / .bias       blk.N.ffn_norm.*            [C]        {C}
 * h.N.mlp.c_fc.weight           blk.N.ffn_up.weight         [C, 4C]    {C, 4C}   transposed
 * h.N.mlp.c_fc.bias             blk.N.ffn_up.bias           [4C]       {4C}
 * h.N.mlp.c_proj.weight         blk.N.ffn_down.weight       [4C, C]    {4C, C}   transposed
 * h.N.mlp.c_proj.bias           blk.N.ffn_down.bias         [C]        {C}
 * ln_f.weight / .bias           output_norm.*               [C]        {C}
 * lm_head.weight (untied head)  output.weight               [V, C]     {C, V}
 * </pre>
 * <b>Why four weights are transposed.</b> ggml's {@code ne[0]} is the contiguous dimension, so a matrix with
 * {@code ne = {K, M}} is M rows of K values, and {@code mul_mat(W, x)} gives {@code y[m] = Σ_k W[m][k]·x[k]}: each row
 * is one output unit, PyTorch's {@code nn.Linear} layout {@code [out][in]}. For a linear map from {@code in} to
 * {@code out} features llama.cpp therefore expects {@code ne0 = in, ne1 = out}. GPT-2's {@code Conv1D} weights (and
 * gpt4j's, which compute {@code x @ W}) are stored {@code [in][out]} and must be transposed to {@code [out][in]}
 * row-major before they are written (or quantized: a quantization block runs along {@code ne0}). The attention
 * output projection is square, so a forgotten transpose there passes llama.cpp's shape check and silently
 * computes garbage. Embeddings and the LM head are already {@code [rows][C]} and are written as they are. The
 * fused {@code attn_qkv} keeps GPT-2's order: output rows 0..C-1 are Q, C..2C-1 K, 2C..3C-1 V.
 *
 * <p><b>Tied head.</b> The llama.cpp gpt2 loader shipped with node-llama-cpp 3.22.1 falls back to
 * {@code token_embd} when {@code output.weight} is absent; the February 2025 loader described in GGUF-GPT2.md
 * requires it. {@link #ggufTensorNames(GptConfig, boolean)} lets the writer choose to store a copy for old readers.
 */
public final class Gpt2Gguf {
    private Gpt2Gguf() {}

    public static final String ARCHITECTURE = "gpt2";

    public static final String KEY_ARCHITECTURE = "general.architecture";
    public static final String KEY_NAME = "general.name";
    public static final String KEY_FILE_TYPE = "general.file_type";
    public static final String KEY_QUANTIZATION_VERSION = "general.quantization_version";
    public static final String KEY_CONTEXT_LENGTH = "gpt2.context_length";
    public static final String KEY_EMBEDDING_LENGTH = "gpt2.embedding_length";
    public static final String KEY_BLOCK_COUNT = "gpt2.block_count";
    public static final String KEY_FEED_FORWARD_LENGTH = "gpt2.feed_forward_length";
    public static final String KEY_HEAD_COUNT = "gpt2.attention.head_count";
    public static final String KEY_HEAD_COUNT_KV = "gpt2.attention.head_count_kv";
    public static final String KEY_LAYER_NORM_EPS = "gpt2.attention.layer_norm_epsilon";

    public static final String KEY_TOKENIZER_MODEL = "tokenizer.ggml.model";
    public static final String KEY_TOKENIZER_PRE = "tokenizer.ggml.pre";
    public static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    public static final String KEY_TOKEN_TYPE = "tokenizer.ggml.token_type";
    public static final String KEY_MERGES = "tokenizer.ggml.merges";
    public static final String KEY_BOS = "tokenizer.ggml.bos_token_id";
    public static final String KEY_EOS = "tokenizer.ggml.eos_token_id";
    public static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";

    /** llama.cpp's token types ({@code llama_token_type}). */
    public static final int TOKEN_NORMAL = 1, TOKEN_UNKNOWN = 2, TOKEN_CONTROL = 3, TOKEN_USER_DEFINED = 4,
            TOKEN_UNUSED = 5, TOKEN_BYTE = 6;

    /**
     * {@code tokenizer.ggml.pre} values for which llama.cpp splits text with GPT-2's own pattern (the ones its
     * {@code llama-vocab.cpp} maps to {@code LLAMA_VOCAB_PRE_TYPE_GPT2}); gpt4j's pre-tokenizer is that pattern.
     */
    public static final Set<String> GPT2_PRE_TOKENIZERS = Set.of("gpt-2", "phi-2", "jina-es", "jina-de", "gigachat",
            "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert");

    // ---------------------------------------------------------------------------------------------- tensor names

    private static final Pattern HF_BLOCK = Pattern.compile("h\\.(\\d+)\\.(ln_1|attn\\.c_attn|attn\\.c_proj|ln_2|mlp\\.c_fc|mlp\\.c_proj)\\.(weight|bias)");
    private static final Pattern GGUF_BLOCK = Pattern.compile("blk\\.(\\d+)\\.(attn_norm|attn_qkv|attn_output|ffn_norm|ffn_up|ffn_down)\\.(weight|bias)");
    private static final Map<String, String> HF_TO_GGUF_PART = Map.of(
            "ln_1", "attn_norm", "attn.c_attn", "attn_qkv", "attn.c_proj", "attn_output",
            "ln_2", "ffn_norm", "mlp.c_fc", "ffn_up", "mlp.c_proj", "ffn_down");
    private static final Map<String, String> GGUF_TO_HF_PART = invert(HF_TO_GGUF_PART);
    private static final Map<String, String> HF_TO_GGUF_TOP = Map.of(
            "wte.weight", "token_embd.weight", "wpe.weight", "position_embd.weight",
            "ln_f.weight", "output_norm.weight", "ln_f.bias", "output_norm.bias", "lm_head.weight", "output.weight");
    private static final Map<String, String> GGUF_TO_HF_TOP = invert(HF_TO_GGUF_TOP);

    private static Map<String, String> invert(Map<String, String> m) {
        Map<String, String> inv = new LinkedHashMap<>();
        m.forEach((k, v) -> inv.put(v, k));
        return Map.copyOf(inv);
    }

    private static String stripPrefix(String hfName) {
        return hfName.startsWith("transformer.") ? hfName.substring("transformer.".length()) : hfName;
    }

    /**
     * The GGUF name of a GPT-2 tensor named as in gpt4j / Hugging Face ({@code transformer.} prefix allowed), e.g.
     * {@code h.3.mlp.c_fc.weight} → {@code blk.3.ffn_up.weight}.
     *
     * @throws IllegalArgumentException for a name GPT-2 has no GGUF tensor for (such as HF's attention-mask
     *                                  buffers {@code h.N.attn.bias}, which are not weights)
     */
    public static String ggufName(String hfName) {
        String n = stripPrefix(hfName);
        String top = HF_TO_GGUF_TOP.get(n);
        if (top != null) return top;
        Matcher m = HF_BLOCK.matcher(n);
        if (!m.matches()) throw new IllegalArgumentException("no GGUF gpt2 tensor for '" + hfName + "'");
        return "blk." + m.group(1) + "." + HF_TO_GGUF_PART.get(m.group(2)) + "." + m.group(3);
    }

    /** The gpt4j / Hugging Face name of a GGUF gpt2 tensor, e.g. {@code blk.0.attn_qkv.bias} → {@code h.0.attn.c_attn.bias}. */
    public static String hfName(String ggufName) {
        String top = GGUF_TO_HF_TOP.get(ggufName);
        if (top != null) return top;
        Matcher m = GGUF_BLOCK.matcher(ggufName);
        if (!m.matches()) throw new IllegalArgumentException("'" + ggufName + "' is not a tensor of llama.cpp's gpt2 architecture");
        return "h." + m.group(1) + "." + GGUF_TO_HF_PART.get(m.group(2)) + "." + m.group(3);
    }

    /**
     * Whether the tensor (gpt4j / HF name) is a Conv1D weight stored {@code [in][out]}, which GGUF stores transposed,
     * {@code [out][in]} row-major with {@code ne = {in, out}}: {@code attn.c_attn}, {@code attn.c_proj},
     * {@code mlp.c_fc} and {@code mlp.c_proj} weights (not their biases).
     */
    public static boolean transposed(String hfName) {
        Matcher m = HF_BLOCK.matcher(stripPrefix(hfName));
        return m.matches() && m.group(3).equals("weight") && !m.group(2).startsWith("ln_");
    }

    /**
     * The GGUF tensors of a GPT-2 of this shape (exactly the set llama.cpp's gpt2 loader takes): embeddings,
     * blocks, then the final norm and head.
     *
     * @param storeTiedOutput with a tied head, whether to list {@code output.weight} anyway (a copy of the
     *                        embedding, which older llama.cpp requires); an untied head always has it
     */
    public static List<String> ggufTensorNames(GptConfig c, boolean storeTiedOutput) {
        List<String> names = new ArrayList<>();
        names.add("token_embd.weight");
        names.add("position_embd.weight");
        for (int l = 0; l < c.layers(); l++) {
            for (String part : List.of("attn_norm", "attn_qkv", "attn_output", "ffn_norm", "ffn_up", "ffn_down")) {
                names.add("blk." + l + "." + part + ".weight");
                names.add("blk." + l + "." + part + ".bias");
            }
        }
        names.add("output_norm.weight");
        names.add("output_norm.bias");
        if (!c.tiedHead() || storeTiedOutput) names.add("output.weight");
        return names;
    }

    /** The dimensions llama.cpp's gpt2 loader expects for a tensor, in ggml order ({@code ne[0]} first). */
    public static long[] ggufDims(String ggufName, GptConfig c) {
        long C = c.embedDim(), V = c.vocabSize(), T = c.contextLength(), F = 4L * C;
        switch (ggufName) {
            case "token_embd.weight", "output.weight" -> {
                return new long[] {C, V};
            }
            case "position_embd.weight" -> {
                return new long[] {C, T};
            }
            case "output_norm.weight", "output_norm.bias" -> {
                return new long[] {C};
            }
            default -> { }
        }
        Matcher m = GGUF_BLOCK.matcher(ggufName);
        if (!m.matches() || Integer.parseInt(m.group(1)) >= c.layers()) {
            throw new IllegalArgumentException("'" + ggufName + "' is not a tensor of a gpt2 with " + c.layers() + " layers");
        }
        boolean weight = m.group(3).equals("weight");
        return switch (m.group(2)) {
            case "attn_norm", "ffn_norm" -> new long[] {C};
            case "attn_output" -> weight ? new long[] {C, C} : new long[] {C};
            case "attn_qkv" -> weight ? new long[] {C, 3 * C} : new long[] {3 * C};
            case "ffn_up" -> weight ? new long[] {C, F} : new long[] {F};
            case "ffn_down" -> weight ? new long[] {F, C} : new long[] {C};
            default -> throw new IllegalStateException(m.group(2));
        };
    }

    /** {@code a} ({@code rows × cols}, row-major) transposed: {@code cols × rows}, row-major. */
    public static float[] transpose(float[] a, int rows, int cols) {
        if ((long) rows * cols != a.length) throw new IllegalArgumentException(a.length + " values are not " + rows + " × " + cols);
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        }
        return t;
    }

    /**
     * A tensor's values (gpt4j / HF layout, row-major) in the order GGUF stores them: Conv1D weights transposed
     * from {@code [in][out]} to {@code [out][in]}, everything else unchanged (the same array).
     */
    public static float[] toGgufLayout(String hfName, float[] values, GptConfig c) {
        if (!transposed(hfName)) return values;
        long[] ne = ggufDims(ggufName(hfName), c); // {in, out}
        return transpose(values, (int) ne[0], (int) ne[1]);
    }

    /** The inverse of {@link #toGgufLayout}: GGUF's {@code [out][in]} back to gpt4j's {@code [in][out]}. */
    public static float[] fromGgufLayout(String hfName, float[] values, GptConfig c) {
        if (!transposed(hfName)) return values;
        long[] ne = ggufDims(ggufName(hfName), c);
        return transpose(values, (int) ne[1], (int) ne[0]);
    }

    /** Whether a GGUF gpt2 tensor is a linear layer's weight: {@code blk.N.attn_qkv}, {@code attn_output}, {@code ffn_up}, {@code ffn_down}. */
    public static boolean linearWeight(String ggufName) {
        Matcher m = GGUF_BLOCK.matcher(ggufName);
        return m.matches() && m.group(3).equals("weight") && !m.group(2).endsWith("_norm");
    }

    /**
     * The type gpt4j stores a tensor in, in a file whose weights are {@code weights} (F32, F16, Q8_0 or Q4_0):
     * <ul>
     *   <li>1-D tensors (LayerNorms, biases) and {@code position_embd}: F32, as llama.cpp's quantizer keeps them (they
     *       are small, and positions are added, not multiplied);</li>
     *   <li>an F32 or F16 file: every other matrix in that type;</li>
     *   <li>a Q8_0 or Q4_0 file: the linear layers' weights in that type; {@code token_embd} and {@code output} in Q8_0.
     *       llama.cpp's quantizer also keeps the head (with a tied head, {@code token_embd}) above Q4_0: Q6_K when its
     *       rows are a multiple of 256 values, else Q8_0; gpt4j has no Q6_K quantizer and writes Q8_0, which is closer
     *       to the float values and, for a small vocabulary, costs little. gpt4j reads both back into float32;</li>
     *   <li>a matrix whose rows ({@code ne[0]}) are not a multiple of the type's block: F16, as llama.cpp falls back for
     *       such tensors.</li>
     * </ul>
     */
    public static GgmlType storedType(String ggufName, long[] ne, GgmlType weights) {
        if (weights != GgmlType.F32 && weights != GgmlType.F16 && weights != GgmlType.Q8_0 && weights != GgmlType.Q4_0) {
            throw new IllegalArgumentException("gpt4j writes GGUF weights as F32, F16, Q8_0 or Q4_0, not " + weights);
        }
        if (ne.length == 1 || ggufName.equals("position_embd.weight")) return GgmlType.F32;
        GgmlType t = weights == GgmlType.F32 || weights == GgmlType.F16 || linearWeight(ggufName) ? weights : GgmlType.Q8_0;
        return ne[0] % t.blockSize() == 0 ? t : GgmlType.F16;
    }

    // ---------------------------------------------------------------------------------------------- hyper-parameters

    /**
     * {@code general.file_type} for weights stored mostly as {@code type} (llama.cpp's {@code llama_ftype}: ALL_F32 0,
     * MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7, MOSTLY_BF16 32).
     */
    public static int fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no llama.cpp file type for weights of " + type);
        };
    }

    /**
     * The architecture keys of a gpt2 file, in this order: architecture, name,
     * {@code gpt2.*} hyper-parameters (all UINT32 but the FLOAT32 epsilon: llama.cpp refuses other types), file
     * type, and for quantized weights {@code general.quantization_version = 2}.
     */
    public static Map<String, GgufValue> hyperParameters(GptConfig c, String name, GgmlType weightType) {
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put(KEY_ARCHITECTURE, GgufValue.string(ARCHITECTURE));
        kv.put(KEY_NAME, GgufValue.string(name));
        kv.put(KEY_CONTEXT_LENGTH, GgufValue.u32(c.contextLength()));
        kv.put(KEY_EMBEDDING_LENGTH, GgufValue.u32(c.embedDim()));
        kv.put(KEY_FEED_FORWARD_LENGTH, GgufValue.u32(4L * c.embedDim()));
        kv.put(KEY_BLOCK_COUNT, GgufValue.u32(c.layers()));
        kv.put(KEY_HEAD_COUNT, GgufValue.u32(c.heads()));
        kv.put(KEY_LAYER_NORM_EPS, GgufValue.f32((float) c.layerNormEps()));
        kv.put(KEY_FILE_TYPE, GgufValue.u32(fileType(weightType)));
        if (weightType != GgmlType.F32 && weightType != GgmlType.F16 && weightType != GgmlType.BF16) {
            kv.put(KEY_QUANTIZATION_VERSION, GgufValue.u32(2));
        }
        return kv;
    }

    /**
     * The GptConfig of a gpt2 GGUF file: the vocabulary size is the number of tokens (checked against
     * {@code token_embd.weight}); the head is tied when {@code output.weight} is absent or a byte-for-byte copy of
     * {@code token_embd.weight}; biases on; dropout 0.
     *
     * @throws ModelFileException naming the file and the key or tensor at fault
     */
    public static GptConfig config(GgufFile f) {
        String arch = f.getString(KEY_ARCHITECTURE);
        if (!arch.equals(ARCHITECTURE)) {
            throw new ModelFileException(f.file(), KEY_ARCHITECTURE + " is '" + arch + "'; gpt4j reads '" + ARCHITECTURE + "'");
        }
        int ctx = u32AsInt(f, KEY_CONTEXT_LENGTH), embd = u32AsInt(f, KEY_EMBEDDING_LENGTH), layers = u32AsInt(f, KEY_BLOCK_COUNT);
        int heads = u32AsInt(f, KEY_HEAD_COUNT), ff = u32AsInt(f, KEY_FEED_FORWARD_LENGTH);
        if ((long) ff != 4L * embd) {
            throw new ModelFileException(f.file(), KEY_FEED_FORWARD_LENGTH + " is " + ff + "; gpt4j's GPT-2 has 4 × "
                    + KEY_EMBEDDING_LENGTH + " = " + 4L * embd);
        }
        if (f.has(KEY_HEAD_COUNT_KV) && f.getUInt32(KEY_HEAD_COUNT_KV) != heads) {
            throw new ModelFileException(f.file(), KEY_HEAD_COUNT_KV + " is " + f.getUInt32(KEY_HEAD_COUNT_KV)
                    + "; GPT-2 has as many key/value heads as heads (" + heads + ")");
        }
        // the file holds a float: take its shortest decimal (1e-5, not 9.99999974e-6), which is what was written
        double eps = Double.parseDouble(Float.toString(f.getFloat32(KEY_LAYER_NORM_EPS)));
        int vocab = f.getStringArray(KEY_TOKENS).size();
        f.findTensor("token_embd.weight").ifPresent(t -> {
            if (t.ne(1) != vocab) {
                throw new ModelFileException(f.file(), "token_embd.weight has " + t.ne(1) + " rows but " + KEY_TOKENS
                        + " has " + vocab + " tokens");
            }
        });
        boolean tied = f.findTensor("output.weight").map(out -> sameBytes(f, out, f.findTensor("token_embd.weight").orElse(null)))
                .orElse(true);
        try {
            return new GptConfig(vocab, ctx, embd, layers, heads, 0.0, eps, true, tied);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(f.file(), e.getMessage());
        }
    }

    private static boolean sameBytes(GgufFile f, GgufFile.TensorInfo a, GgufFile.TensorInfo b) {
        if (b == null || a.type() != b.type() || a.byteSize() != b.byteSize() || a.nDims() != b.nDims()) return false;
        for (int i = 0; i < a.nDims(); i++) if (a.ne(i) != b.ne(i)) return false;
        return f.tensorData(a.name()).equals(f.tensorData(b.name()));
    }

    private static int u32AsInt(GgufFile f, String key) {
        long v = f.getUInt32(key);
        if (v > Integer.MAX_VALUE) throw new ModelFileException(f.file(), "key '" + key + "' = " + v + " is too large");
        return (int) v;
    }

    // ---------------------------------------------------------------------------------------------- tokenizer

    /**
     * The tokenizer keys for a GPT-2 tokenizer whose {@code <|endoftext|>} is both BOS and EOS (as in GPT-2).
     *
     * @throws IllegalArgumentException if the tokenizer has no {@code <|endoftext|>} special token
     */
    public static Map<String, GgufValue> tokenizerMetadata(BpeTokenizer tok) {
        return tokenizerMetadata(tok, tok.vocabSize());
    }

    /**
     * As {@link #tokenizerMetadata(BpeTokenizer)}, for a model of {@code vocabSize} token ids, which may be more than the
     * tokenizer has (a vocabulary padded to a round number, as nanoGPT's 50304): ids past the tokenizer's are listed as
     * {@code [PAD<id>]}, typed UNUSED, as llama.cpp's {@code convert_hf_to_gguf.py} pads them (llama.cpp's tokens array
     * must have as many entries as {@code token_embd.weight} has rows).
     *
     * @throws IllegalArgumentException if the tokenizer has no {@code <|endoftext|>} special token, or more ids than
     *                                  {@code vocabSize}
     */
    public static Map<String, GgufValue> tokenizerMetadata(BpeTokenizer tok, int vocabSize) {
        if (!tok.specialTokens().containsKey(BpeTokenizer.END_OF_TEXT)) {
            throw new IllegalArgumentException("the tokenizer has no " + BpeTokenizer.END_OF_TEXT + " special token; give the BOS and EOS ids");
        }
        int eot = tok.specialTokenId(BpeTokenizer.END_OF_TEXT);
        return tokenizerMetadata(tok, eot, eot, vocabSize);
    }

    /** As {@link #tokenizerMetadata(BpeTokenizer, int, int, int)} for exactly the tokenizer's ids. */
    public static Map<String, GgufValue> tokenizerMetadata(BpeTokenizer tok, int bosId, int eosId) {
        return tokenizerMetadata(tok, bosId, eosId, tok.vocabSize());
    }

    /** The text of the padding token with this id: {@code [PAD<id>]}, as llama.cpp's converter names it. */
    public static String padToken(int id) {
        return "[PAD" + id + "]";
    }

    /**
     * The tokenizer keys llama.cpp reads for a GPT-2 byte-level BPE: model {@code gpt2}, pre-tokenizer
     * {@code gpt-2}, the token strings by id (byte-level alphabet, special tokens as their text), their types
     * (special tokens CONTROL, so that llama.cpp splits them out of text and does not print them as text; a special
     * token {@code [PAD<its id>]} and the padding up to {@code vocabSize} UNUSED; the others NORMAL: BYTE would make
     * llama.cpp's BPE decoder drop them), the merges as "left right" in rank order, BOS/EOS ids, and
     * {@code add_bos_token = false} (GPT-2 prompts start without BOS).
     */
    public static Map<String, GgufValue> tokenizerMetadata(BpeTokenizer tok, int bosId, int eosId, int vocabSize) {
        int n = tok.vocabSize();
        if (vocabSize < n) {
            throw new IllegalArgumentException("the model has " + vocabSize + " token ids, fewer than its tokenizer's " + n);
        }
        if (bosId < 0 || bosId >= n || eosId < 0 || eosId >= n) {
            throw new IllegalArgumentException("BOS " + bosId + " / EOS " + eosId + " out of the vocabulary's 0.." + (n - 1));
        }
        List<String> tokens = new ArrayList<>(vocabSize);
        int[] types = new int[vocabSize];
        for (int id = 0; id < n; id++) {
            String s = tok.tokenString(id);
            tokens.add(s);
            boolean special = tok.specialTokens().containsKey(s);
            types[id] = !special ? TOKEN_NORMAL : s.equals(padToken(id)) ? TOKEN_UNUSED : TOKEN_CONTROL;
        }
        for (int id = n; id < vocabSize; id++) {
            String pad = padToken(id);
            if (tok.tokenId(pad) >= 0) throw new IllegalArgumentException("cannot pad the vocabulary: token " + pad + " exists already");
            tokens.add(pad);
            types[id] = TOKEN_UNUSED;
        }
        List<String> merges = new ArrayList<>(tok.mergeCount());
        for (int[] m : tok.merges()) merges.add(tok.tokenString(m[0]) + " " + tok.tokenString(m[1]));
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put(KEY_TOKENIZER_MODEL, GgufValue.string("gpt2"));
        kv.put(KEY_TOKENIZER_PRE, GgufValue.string("gpt-2"));
        kv.put(KEY_TOKENS, GgufValue.stringArray(tokens));
        kv.put(KEY_TOKEN_TYPE, GgufValue.i32Array(types));
        kv.put(KEY_MERGES, GgufValue.stringArray(merges));
        kv.put(KEY_BOS, GgufValue.u32(bosId));
        kv.put(KEY_EOS, GgufValue.u32(eosId));
        kv.put(KEY_ADD_BOS, GgufValue.bool(false));
        return kv;
    }

    /**
     * The BpeTokenizer of a gpt2 GGUF file. Special tokens are those typed CONTROL, USER_DEFINED, UNKNOWN or UNUSED,
     * and {@code <|endoftext|>} whatever its type (llama.cpp forces it to CONTROL too); without token types, the
     * tokens that are neither byte tokens nor merge results (as for {@code vocab.json}). A missing pre-tokenizer
     * key is read as GPT-2's (old converters left it out; llama.cpp would then use its 'default' pattern).
     *
     * @throws ModelFileException if the file's tokenizer is not GPT-2's byte-level BPE or is inconsistent
     */
    public static BpeTokenizer tokenizer(GgufFile f) {
        String model = f.getString(KEY_TOKENIZER_MODEL);
        if (!model.equals("gpt2")) {
            throw new ModelFileException(f.file(), KEY_TOKENIZER_MODEL + " is '" + model + "'; gpt4j reads GPT-2's byte-level BPE ('gpt2')");
        }
        if (f.has(KEY_TOKENIZER_PRE)) {
            String pre = f.getString(KEY_TOKENIZER_PRE);
            if (!GPT2_PRE_TOKENIZERS.contains(pre)) {
                throw new ModelFileException(f.file(), KEY_TOKENIZER_PRE + " is '" + pre
                        + "', which splits text differently from GPT-2's pattern (gpt4j's pre-tokenizer)");
            }
        }
        List<String> tokens = f.getStringArray(KEY_TOKENS);
        List<String> merges = f.getStringArray(KEY_MERGES);
        List<String> specials = new ArrayList<>();
        if (f.has(KEY_TOKEN_TYPE)) {
            int[] types = f.getIntArray(KEY_TOKEN_TYPE);
            if (types.length != tokens.size()) {
                throw new ModelFileException(f.file(), KEY_TOKEN_TYPE + " has " + types.length + " entries for " + tokens.size() + " tokens");
            }
            for (int id = 0; id < types.length; id++) {
                switch (types[id]) {
                    case TOKEN_NORMAL -> {
                        if (tokens.get(id).equals(BpeTokenizer.END_OF_TEXT)) specials.add(tokens.get(id));
                    }
                    case TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNKNOWN, TOKEN_UNUSED -> specials.add(tokens.get(id));
                    case TOKEN_BYTE -> throw new ModelFileException(f.file(), "token " + id + " has type BYTE (6), which GPT-2's byte-level BPE does not use");
                    default -> throw new ModelFileException(f.file(), "token " + id + " has unknown token type " + types[id]);
                }
            }
        } else {
            specials.addAll(unreachableTokens(tokens, merges));
        }
        try {
            return BpeTokenizer.fromParts(tokens, merges, specials);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(f.file(), "tokenizer: " + e.getMessage());
        }
    }

    /** Tokens that are neither one of the 256 byte tokens nor the result of a merge. */
    private static List<String> unreachableTokens(List<String> tokens, List<String> merges) {
        Set<String> regular = new HashSet<>();
        for (int b = 0; b < 256; b++) regular.add(String.valueOf(dev.gpt4j.tokenizer.ByteLevel.charOf(b)));
        for (String m : merges) regular.add(m.replaceFirst(" ", ""));
        List<String> out = new ArrayList<>();
        for (String t : tokens) if (!regular.contains(t)) out.add(t);
        return out;
    }
}
