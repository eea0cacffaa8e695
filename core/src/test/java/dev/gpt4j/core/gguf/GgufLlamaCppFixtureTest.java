package dev.gpt4j.core.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpt4j.core.Float16;
import dev.gpt4j.core.GptConfig;
import dev.gpt4j.tokenizer.BpeTokenizer;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files written by llama.cpp's own code read as llama.cpp wrote them. The fixtures are TinyGpt2's F32 file
 * quantized by {@code llama_model_quantize} (libllama of node-llama-cpp 3.22.1) to Q8_0 and Q4_0, and
 * {@code tiny-q8_0.llama.json} is benchmarks/llamacpp/run.mjs's output on the Q8_0 one (llama.cpp's tokenization and
 * greedy continuations); benchmarks/llamacpp/README.md has the commands. Rebuilding TinyGpt2's weights here lets the
 * test check values, not just names: a reader that mixed up dims, offsets, block layout or the transposition
 * would read numbers far from the originals.
 */
class GgufLlamaCppFixtureTest {
    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(GgufLlamaCppFixtureTest.class.getResource("/gguf/" + name).toURI());
    }

    private static final BpeTokenizer TOKENIZER = TinyGpt2.tokenizer();
    private static final GptConfig CONFIG = TinyGpt2.config(TOKENIZER);
    private static final Map<String, float[]> WEIGHTS = TinyGpt2.weights(CONFIG, TinyGpt2.SEED);

    @Test
    void q8_0WrittenByLlamaCpp() throws Exception {
        try (GgufFile f = GgufFile.open(fixture("tiny-q8_0.gguf"))) {
            checkMetadataAndTensors(f, 7);
            for (GgufFile.TensorInfo t : f.tensors()) {
                GgmlType expected = t.nDims() == 1 || t.name().equals("position_embd.weight") ? GgmlType.F32 : GgmlType.Q8_0;
                assertEquals(expected, t.type(), t.name());
            }
            checkF32("position_embd.weight", f);
            checkF32("blk.1.ffn_norm.bias", f);
            for (String name : new String[] {"token_embd.weight", "blk.0.attn_qkv.weight", "blk.0.attn_output.weight",
                    "blk.1.ffn_up.weight", "blk.1.ffn_down.weight"}) {
                checkQuantized(f, name, GgufLlamaCppFixtureTest::q8_0);
            }
        }
    }

    @Test
    void q4_0WrittenByLlamaCpp() throws Exception {
        try (GgufFile f = GgufFile.open(fixture("tiny-q4_0.gguf"))) {
            checkMetadataAndTensors(f, 2);
            // llama.cpp's Q4_0 keeps the (tied) head's matrix at higher precision: Q6_K when its rows are a multiple of
            // 256 values, else (here, 64) Q8_0
            assertEquals(GgmlType.Q8_0, f.tensor("token_embd.weight").type());
            assertEquals(GgmlType.F32, f.tensor("position_embd.weight").type());
            assertEquals(GgmlType.Q4_0, f.tensor("blk.0.attn_qkv.weight").type());
            checkQuantized(f, "token_embd.weight", GgufLlamaCppFixtureTest::q8_0);
            for (String name : new String[] {"blk.0.attn_qkv.weight", "blk.0.attn_output.weight", "blk.1.ffn_down.weight"}) {
                checkQuantized(f, name, GgufLlamaCppFixtureTest::q4_0);
            }
        }
    }

    @Test
    void ourTokenizerEncodesAsLlamaCppDid() throws Exception {
        JsonNode run = new ObjectMapper().readTree(fixture("tiny-q8_0.llama.json").toFile());
        try (GgufFile f = GgufFile.open(fixture("tiny-q8_0.gguf"))) {
            BpeTokenizer tok = Gpt2Gguf.tokenizer(f);
            int n = 0;
            for (JsonNode p : run.get("prompts")) {
                String text = p.get("text").asText();
                int[] llama = new ObjectMapper().convertValue(p.get("ids"), int[].class);
                assertArrayEquals(llama, tok.encode(text), "llama.cpp's ids for " + text);
                n++;
            }
            assertEquals(8, n);
            assertEquals(16, run.get("prompts").get(0).get("continuation").size(), "greedy continuations are recorded");
        }
    }

    private static void checkMetadataAndTensors(GgufFile f, int fileType) {
        assertEquals(3, f.version());
        assertEquals(32, f.alignment());
        assertEquals("gpt2", f.getString("general.architecture"));
        assertEquals(fileType, f.getUInt32("general.file_type"));
        assertEquals(2, f.getUInt32("general.quantization_version"));
        assertEquals(CONFIG, Gpt2Gguf.config(f));
        Gpt2GgufTest.assertSameTokenizer(TOKENIZER, Gpt2Gguf.tokenizer(f));
        HashSet<String> names = new HashSet<>();
        for (GgufFile.TensorInfo t : f.tensors()) {
            names.add(t.name());
            assertArrayEquals(Gpt2Gguf.ggufDims(t.name(), CONFIG), t.ne(), t.name());
            f.requireSupported(t.name());
        }
        assertEquals(new HashSet<>(Gpt2Gguf.ggufTensorNames(CONFIG, false)), names);
    }

    /** The values TinyGpt2 wrote for a GGUF tensor, in GGUF's layout. */
    private static float[] original(String ggufName) {
        String hf = Gpt2Gguf.hfName(ggufName);
        return Gpt2Gguf.toGgufLayout(hf, WEIGHTS.get(hf), CONFIG);
    }

    private static void checkF32(String name, GgufFile f) {
        float[] expected = original(name);
        float[] got = new float[expected.length];
        f.tensorData(name).asFloatBuffer().get(got);
        assertArrayEquals(expected, got, name);
    }

    /** Decodes one block of 32 values into out[0..32); returns the block's scale d. */
    private interface BlockDecoder {
        float decode(ByteBuffer b, int blockStart, float[] out);
    }

    /** Q8_0: f16 d, then 32 signed bytes; x = q·d. */
    private static float q8_0(ByteBuffer b, int at, float[] out) {
        float d = Float16.toFloat(b.getShort(at));
        for (int i = 0; i < 32; i++) out[i] = b.get(at + 2 + i) * d;
        return d;
    }

    /** Q4_0: f16 d, then 16 bytes; value i < 16 is byte i's low nibble, i ≥ 16 byte i-16's high nibble; x = (q-8)·d. */
    private static float q4_0(ByteBuffer b, int at, float[] out) {
        float d = Float16.toFloat(b.getShort(at));
        for (int i = 0; i < 16; i++) {
            int q = b.get(at + 2 + i) & 0xFF;
            out[i] = ((q & 0x0F) - 8) * d;
            out[i + 16] = ((q >>> 4) - 8) * d;
        }
        return d;
    }

    /**
     * Every block of the tensor decodes to within one quantization step (d, plus the f16 rounding of d) of the value
     * TinyGpt2 wrote at that place, and the scale is what the block's largest value implies.
     */
    private static void checkQuantized(GgufFile f, String name, BlockDecoder decoder) {
        float[] expected = original(name);
        ByteBuffer b = f.tensorData(name);
        GgmlType type = f.tensor(name).type();
        int blocks = expected.length / 32;
        assertEquals(blocks * type.bytesPerBlock(), b.remaining(), name);
        float[] got = new float[32];
        double worst = 0;
        for (int k = 0; k < blocks; k++) {
            float d = decoder.decode(b, k * type.bytesPerBlock(), got);
            float amax = 0;
            for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(expected[k * 32 + i]));
            float levels = type == GgmlType.Q8_0 ? 127 : 8;
            assertEquals(amax / levels, Math.abs(d), amax / levels * 2e-3 + 1e-12, name + " block " + k + " scale");
            for (int i = 0; i < 32; i++) {
                double err = Math.abs(got[i] - expected[k * 32 + i]);
                worst = Math.max(worst, err / Math.abs(d));
                assertTrue(err <= Math.abs(d) * 1.01 + 1e-7, name + " block " + k + " value " + i + ": " + got[i] + " vs " + expected[k * 32 + i]);
            }
        }
        assertTrue(worst > 0.1, name + ": values are quantized, not copied");
    }
}
