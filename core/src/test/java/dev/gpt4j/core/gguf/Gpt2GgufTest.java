package dev.gpt4j.core.gguf;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.ModelFileException;
import dev.gpt4j.core.Parameters;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.SpecialTokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GPT-2 ↔ llama.cpp gpt2 mapping: names, layouts, hyper-parameters and the tokenizer, both ways. */
class Gpt2GgufTest {
    @TempDir
    Path dir;

    static final List<String> TEXTS = List.of("SELECT name FROM singer WHERE age > 20;", "How many singers?",
            "<|schema|> singer(name, age) <|question|> How many? <|sql|> SELECT count(*) FROM singer<|endoftext|>",
            "héllo wörld ✓ 😀\n\ttabs  and   spaces\n\n", "it's the singer's 2014 concert, isn't it? 12345 678", "");

    @Test
    void everyGpt4jParameterHasAGgufNameAndBack() {
        for (boolean tied : new boolean[] {true, false}) {
            GptConfig c = new GptConfig(300, 64, 64, 3, 2, 0, 1e-5, true, tied);
            List<String> ours = new ArrayList<>();
            for (Parameters.Slot s : Parameters.layout(c)) ours.add(s.name());
            Set<String> gguf = new HashSet<>();
            for (String n : ours) {
                String g = Gpt2Gguf.ggufName(n);
                assertEquals(n, Gpt2Gguf.hfName(g), "round trip of " + n);
                assertTrue(gguf.add(g), "two names map to " + g);
                // llama.cpp's dims are ours reversed, after the Conv1D transposition
                long[] hf = Parameters.layout(c).stream().filter(s -> s.name().equals(n)).findFirst().orElseThrow().shape();
                long[] expected = hf.length == 1 ? hf : Gpt2Gguf.transposed(n) ? new long[] {hf[0], hf[1]} : new long[] {hf[1], hf[0]};
                assertArrayEquals(expected, Gpt2Gguf.ggufDims(g, c), g);
            }
            assertEquals(new HashSet<>(Gpt2Gguf.ggufTensorNames(c, false)), gguf, "exactly llama.cpp's tensor set, tied=" + tied);
            assertEquals(4 + 12 * 3 + (tied ? 0 : 1), gguf.size());
        }
        assertEquals("blk.3.ffn_up.weight", Gpt2Gguf.ggufName("transformer.h.3.mlp.c_fc.weight"));
        assertEquals("output.weight", Gpt2Gguf.ggufName("lm_head.weight"));
        assertThrows(IllegalArgumentException.class, () -> Gpt2Gguf.ggufName("h.0.attn.bias"), "HF's mask buffer is no weight");
        assertThrows(IllegalArgumentException.class, () -> Gpt2Gguf.hfName("blk.0.attn_q.weight"));
        assertTrue(Gpt2Gguf.ggufTensorNames(new GptConfig(300, 64, 64, 1, 2, 0, 1e-5, true, true), true).contains("output.weight"));
    }

    @Test
    void exactlyTheFourConv1DWeightsAreTransposed() {
        List<String> transposed = new ArrayList<>();
        GptConfig c = new GptConfig(300, 64, 64, 1, 2, 0, 1e-5, true, false);
        for (Parameters.Slot s : Parameters.layout(c)) if (Gpt2Gguf.transposed(s.name())) transposed.add(s.name());
        assertEquals(List.of("h.0.attn.c_attn.weight", "h.0.attn.c_proj.weight", "h.0.mlp.c_fc.weight", "h.0.mlp.c_proj.weight"), transposed);
    }

    @Test
    void conv1dValuesMoveToRowOutColIn() {
        GptConfig c = new GptConfig(300, 64, 8, 1, 2, 0, 1e-5, true, true);
        int C = 8;
        // attn.c_proj is square: only the values tell whether it was transposed
        float[] hf = new float[C * C];
        for (int i = 0; i < hf.length; i++) hf[i] = i;
        float[] g = Gpt2Gguf.toGgufLayout("h.0.attn.c_proj.weight", hf, c);
        int in = 2, out = 5;
        assertEquals(hf[in * C + out], g[out * C + in], "HF [in][out] becomes GGUF row out, column in");
        assertArrayEquals(hf, Gpt2Gguf.fromGgufLayout("h.0.attn.c_proj.weight", g, c));
        // c_fc: HF [C][4C] → GGUF ne {C, 4C}: 4C rows of C
        float[] fc = new float[C * 4 * C];
        for (int i = 0; i < fc.length; i++) fc[i] = i;
        float[] gfc = Gpt2Gguf.toGgufLayout("h.0.mlp.c_fc.weight", fc, c);
        assertEquals(fc[3 * 4 * C + 17], gfc[17 * C + 3]);
        assertArrayEquals(fc, Gpt2Gguf.fromGgufLayout("h.0.mlp.c_fc.weight", gfc, c));
        float[] wte = {1, 2, 3};
        assertTrue(wte == Gpt2Gguf.toGgufLayout("wte.weight", wte, c), "embeddings are written as they are");
    }

    @Test
    void hyperParametersHaveTheTypesLlamaCppDemands() {
        GptConfig c = GptConfig.gpt2Small124M();
        Map<String, GgufValue> kv = Gpt2Gguf.hyperParameters(c, "gpt2", GgmlType.Q8_0);
        assertEquals(GgufValue.u32(1024), kv.get("gpt2.context_length"));
        assertEquals(GgufValue.u32(768), kv.get("gpt2.embedding_length"));
        assertEquals(GgufValue.u32(3072), kv.get("gpt2.feed_forward_length"));
        assertEquals(GgufValue.u32(12), kv.get("gpt2.block_count"));
        assertEquals(GgufValue.u32(12), kv.get("gpt2.attention.head_count"));
        assertEquals(GgufValue.f32(1e-5f), kv.get("gpt2.attention.layer_norm_epsilon"));
        assertEquals(GgufValue.u32(7), kv.get("general.file_type"));
        assertEquals(GgufValue.u32(2), kv.get("general.quantization_version"));
        assertFalse(Gpt2Gguf.hyperParameters(c, "gpt2", GgmlType.F16).containsKey("general.quantization_version"));
        assertEquals(2, Gpt2Gguf.fileType(GgmlType.Q4_0));
    }

    @Test
    void aWrittenModelReadsBackItsConfigAndTokenizer() {
        BpeTokenizer tok = TinyGpt2.tokenizer();
        GptConfig c = TinyGpt2.config(tok);
        Path file = dir.resolve("tiny.gguf");
        TinyGpt2.writer(tok, c, TinyGpt2.weights(c, 1), false).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(c, Gpt2Gguf.config(f));
            assertFalse(f.hasTensor("output.weight"));
            int[] types = f.getIntArray(Gpt2Gguf.KEY_TOKEN_TYPE);
            for (int id = 0; id < tok.vocabSize(); id++) {
                boolean special = tok.specialTokens().containsKey(tok.tokenString(id));
                assertEquals(special ? Gpt2Gguf.TOKEN_CONTROL : Gpt2Gguf.TOKEN_NORMAL, types[id], "type of token " + id);
            }
            assertEquals(tok.specialTokenId(BpeTokenizer.END_OF_TEXT), f.getUInt32(Gpt2Gguf.KEY_EOS));
            assertSameTokenizer(tok, Gpt2Gguf.tokenizer(f));
        }
        // a tied head stored as a copy (for old llama.cpp) still reads as tied; an untied head as untied
        TinyGpt2.writer(tok, c, TinyGpt2.weights(c, 1), true).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertTrue(f.hasTensor("output.weight"));
            assertTrue(Gpt2Gguf.config(f).tiedHead());
        }
        GptConfig untied = c.withTiedHead(false);
        TinyGpt2.writer(tok, untied, TinyGpt2.weights(untied, 1), false).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(untied, Gpt2Gguf.config(f));
        }
    }

    @Test
    void storedTypesFollowLlamaCppsQuantizer() {
        GptConfig c = new GptConfig(300, 64, 64, 2, 2, 0, 1e-5, true, false);
        for (GgmlType w : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0}) {
            GgmlType embd = w == GgmlType.Q4_0 ? GgmlType.Q8_0 : w;
            assertEquals(embd, Gpt2Gguf.storedType("token_embd.weight", Gpt2Gguf.ggufDims("token_embd.weight", c), w));
            assertEquals(embd, Gpt2Gguf.storedType("output.weight", Gpt2Gguf.ggufDims("output.weight", c), w));
            assertEquals(GgmlType.F32, Gpt2Gguf.storedType("position_embd.weight", Gpt2Gguf.ggufDims("position_embd.weight", c), w));
            assertEquals(GgmlType.F32, Gpt2Gguf.storedType("blk.1.ffn_up.bias", Gpt2Gguf.ggufDims("blk.1.ffn_up.bias", c), w));
            assertEquals(GgmlType.F32, Gpt2Gguf.storedType("blk.1.attn_norm.weight", Gpt2Gguf.ggufDims("blk.1.attn_norm.weight", c), w));
            for (String lin : List.of("blk.0.attn_qkv.weight", "blk.0.attn_output.weight", "blk.1.ffn_up.weight", "blk.1.ffn_down.weight")) {
                assertTrue(Gpt2Gguf.linearWeight(lin), lin);
                assertEquals(w, Gpt2Gguf.storedType(lin, Gpt2Gguf.ggufDims(lin, c), w), lin);
            }
        }
        assertFalse(Gpt2Gguf.linearWeight("blk.0.attn_norm.weight"));
        assertFalse(Gpt2Gguf.linearWeight("blk.0.attn_qkv.bias"));
        // rows that are not whole blocks fall back to F16, as llama.cpp's quantizer does
        assertEquals(GgmlType.F16, Gpt2Gguf.storedType("blk.0.attn_qkv.weight", new long[] {48, 144}, GgmlType.Q4_0));
        assertThrows(IllegalArgumentException.class, () -> Gpt2Gguf.storedType("blk.0.attn_qkv.weight", new long[] {64, 192}, GgmlType.Q5_K));
    }

    static void assertSameTokenizer(BpeTokenizer expected, BpeTokenizer got) {
        assertEquals(expected.vocabSize(), got.vocabSize());
        assertEquals(expected.specialTokens(), got.specialTokens());
        assertArrayEquals(expected.merges(), got.merges());
        for (String t : TEXTS) {
            assertArrayEquals(expected.encode(t), got.encode(t), t);
            assertArrayEquals(expected.encode(t, SpecialTokens.PLAIN_TEXT), got.encode(t, SpecialTokens.PLAIN_TEXT), t);
            assertEquals(t, got.decode(got.encode(t)));
        }
    }

    @Test
    void tokenizerWithoutTokenTypesFindsItsSpecialTokensAsVocabJsonDoes() {
        BpeTokenizer tok = TinyGpt2.tokenizer();
        Map<String, GgufValue> kv = new LinkedHashMap<>(Gpt2Gguf.tokenizerMetadata(tok));
        kv.remove(Gpt2Gguf.KEY_TOKEN_TYPE);
        kv.remove(Gpt2Gguf.KEY_TOKENIZER_PRE); // old converters wrote neither
        Path file = dir.resolve("notypes.gguf");
        new GgufWriter().putAll(kv).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertSameTokenizer(tok, Gpt2Gguf.tokenizer(f));
        }
    }

    @Test
    void tokenizersGpt4jCannotRunAreRefusedByName() {
        BpeTokenizer tok = TinyGpt2.tokenizer();
        assertRefused(tok, Gpt2Gguf.KEY_TOKENIZER_MODEL, GgufValue.string("llama"), "tokenizer.ggml.model is 'llama'");
        assertRefused(tok, Gpt2Gguf.KEY_TOKENIZER_PRE, GgufValue.string("qwen2"), "tokenizer.ggml.pre is 'qwen2'");
        int[] types = new int[tok.vocabSize()];
        java.util.Arrays.fill(types, Gpt2Gguf.TOKEN_NORMAL);
        types[65] = Gpt2Gguf.TOKEN_BYTE;
        assertRefused(tok, Gpt2Gguf.KEY_TOKEN_TYPE, GgufValue.i32Array(types), "token 65 has type BYTE (6)");
        List<String> merges = new ArrayList<>(Gpt2Gguf.tokenizerMetadata(tok).get(Gpt2Gguf.KEY_MERGES).asStringList());
        merges.set(3, "Ġ Q");
        assertRefused(tok, Gpt2Gguf.KEY_MERGES, GgufValue.stringArray(merges), "tokenizer: merge 3: the merged token \"ĠQ\" is not in the vocabulary");
        List<String> tokens = new ArrayList<>(Gpt2Gguf.tokenizerMetadata(tok).get(Gpt2Gguf.KEY_TOKENS).asStringList());
        tokens.set(tokens.indexOf("Ġ"), "space");
        assertRefused(tok, Gpt2Gguf.KEY_TOKENS, GgufValue.stringArray(tokens), "tokenizer: no token for byte 0x20");
    }

    private void assertRefused(BpeTokenizer tok, String key, GgufValue value, String expected) {
        Map<String, GgufValue> kv = new LinkedHashMap<>(Gpt2Gguf.tokenizerMetadata(tok));
        kv.put(key, value);
        Path file = dir.resolve("refused.gguf");
        new GgufWriter().putAll(kv).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> Gpt2Gguf.tokenizer(f));
            assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains(expected), e.getMessage());
        }
    }

    @Test
    void configsGpt4jCannotRunAreRefusedByName() {
        BpeTokenizer tok = TinyGpt2.tokenizer();
        GptConfig c = TinyGpt2.config(tok);
        assertConfigRefused(tok, c, "general.architecture", GgufValue.string("llama"), "general.architecture is 'llama'; gpt4j reads 'gpt2'");
        assertConfigRefused(tok, c, "gpt2.feed_forward_length", GgufValue.u32(100), "gpt2.feed_forward_length is 100");
        assertConfigRefused(tok, c, "gpt2.context_length", GgufValue.i32(64), "key 'gpt2.context_length' is INT32, not UINT32");
        assertConfigRefused(tok, c, "gpt2.attention.head_count", GgufValue.u32(3), "n_embd (64) must be a multiple of n_head (3)");
    }

    private void assertConfigRefused(BpeTokenizer tok, GptConfig c, String key, GgufValue value, String expected) {
        Map<String, GgufValue> kv = new LinkedHashMap<>(Gpt2Gguf.hyperParameters(c, "x", GgmlType.F32));
        kv.put(key, value);
        kv.putAll(Gpt2Gguf.tokenizerMetadata(tok));
        Path file = dir.resolve("config.gguf");
        new GgufWriter().putAll(kv).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> Gpt2Gguf.config(f));
            assertTrue(e.getMessage().contains(expected), e.getMessage());
        }
    }
}
