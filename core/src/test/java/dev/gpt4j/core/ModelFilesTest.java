package dev.gpt4j.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ModelFilesTest {
    static final GptConfig CFG = new GptConfig(50, 8, 16, 2, 2, 0.1, 1e-5, true, false);

    @Test
    void roundTripIsBitExact(@TempDir Path dir) throws Exception {
        try (GptModel m = GptModel.create(CFG, 5)) {
            m.save(dir);
            try (GptModel back = GptModel.load(dir)) {
                assertEquals(CFG, back.config());
                // INDArray.equals allows 1e-5; compare the bits
                assertArrayEquals(m.params().values().toFloatVector(), back.params().values().toFloatVector(), 0f);
                // and byte for byte when written again
                Path again = dir.resolve("again");
                back.save(again);
                assertArrayEquals(Files.readAllBytes(dir.resolve("model.safetensors")), Files.readAllBytes(again.resolve("model.safetensors")));
            }
        }
        try (FileChannel ch = FileChannel.open(dir.resolve("model.safetensors"))) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, 0);
            assertEquals(0, b.getLong(0) % 8, "data is 8-byte aligned");
            // the metadata keys in sorted order, so that a save in another JVM writes the same bytes (a Map.of
            // iterates in an order that changes from JVM to JVM)
            ByteBuffer h = ByteBuffer.allocate((int) b.getLong(0));
            ch.read(h, 8);
            String header = new String(h.array(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(header.indexOf("\"format\"") < header.indexOf("\"producer\"") && header.contains("\"producer\""), header);
        }
        ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals("gpt2", cfg.get("model_type").asText());
        assertEquals(16, cfg.get("n_embd").asInt());
        assertFalse(cfg.get("tie_word_embeddings").asBoolean());
    }

    @Test
    void float16FilesLoad(@TempDir Path dir) {
        try (GptModel m = GptModel.create(CFG, 5)) {
            ModelFiles.save(m, dir, "F16", Map.of());
            try (GptModel back = GptModel.load(dir)) {
                INDArray diff = back.params().values().sub(m.params().values());
                assertTrue(Math.abs(diff.maxNumber().doubleValue()) < 1e-3 && Math.abs(diff.minNumber().doubleValue()) < 1e-3);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ bad files

    static Path saved(Path dir) {
        try (GptModel m = GptModel.create(CFG, 5)) {
            m.save(dir);
        }
        return dir;
    }

    static void assertBad(Path dir, String fileName, String fragment) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> GptModel.load(dir));
        assertEquals(dir.resolve(fileName), e.file(), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void badConfigValuesNameTheKey(@TempDir Path dir) throws Exception {
        saved(dir);
        ObjectMapper om = new ObjectMapper();
        Path cfg = dir.resolve("config.json");
        String good = Files.readString(cfg);
        Map<String, Object[]> cases = new LinkedHashMap<>();
        cases.put("n_head", new Object[] {3, "must be a multiple of n_head"});
        cases.put("n_embd", new Object[] {"sixteen", "n_embd must be an integer"});
        cases.put("model_type", new Object[] {"llama", "model_type must be \"gpt2\""});
        cases.put("activation_function", new Object[] {"relu", "activation_function \"relu\" is not supported"});
        cases.put("layer_norm_epsilon", new Object[] {-1, "layer_norm_epsilon must be > 0"});
        cases.put("vocab_size", new Object[] {0, "vocab_size must be a positive integer"});
        cases.put("attn_pdrop", new Object[] {0.5, "must be equal"});
        for (var c : cases.entrySet()) {
            ObjectNode n = (ObjectNode) om.readTree(good);
            n.set(c.getKey(), om.valueToTree(c.getValue()[0]));
            Files.writeString(cfg, om.writeValueAsString(n));
            assertBad(dir, "config.json", (String) c.getValue()[1]);
        }
        ObjectNode n = (ObjectNode) om.readTree(good);
        n.remove("n_layer");
        Files.writeString(cfg, om.writeValueAsString(n));
        assertBad(dir, "config.json", "missing key n_layer");
        Files.writeString(cfg, "{not json");
        assertBad(dir, "config.json", "cannot read");
    }

    @Test
    void missingTensorAndWrongShape(@TempDir Path dir) {
        saved(dir);
        SafeTensors.Reader r = SafeTensors.open(dir.resolve("model.safetensors"));
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        for (var e : r.entries().values()) {
            INDArray t = Nd4j.create(DataType.FLOAT, e.shape());
            r.readInto(e.name(), t);
            tensors.put(e.name(), t);
        }
        Map<String, INDArray> missing = new LinkedHashMap<>(tensors);
        missing.remove("h.1.mlp.c_fc.bias");
        SafeTensors.write(dir.resolve("model.safetensors"), missing, Map.of(), "F32");
        assertBad(dir, "model.safetensors", "missing tensor h.1.mlp.c_fc.bias");
        Map<String, INDArray> wrong = new LinkedHashMap<>(tensors);
        wrong.put("h.0.attn.c_attn.weight", Nd4j.create(DataType.FLOAT, 48, 16)); // [out, in]: transposed
        SafeTensors.write(dir.resolve("model.safetensors"), wrong, Map.of(), "F32");
        assertBad(dir, "model.safetensors", "tensor h.0.attn.c_attn.weight has shape [48, 16], but config.json says [16, 48]");
        Map<String, INDArray> extra = new LinkedHashMap<>(tensors);
        extra.put("h.7.attn.c_attn.weight", Nd4j.create(DataType.FLOAT, 2));
        SafeTensors.write(dir.resolve("model.safetensors"), extra, Map.of(), "F32");
        assertBad(dir, "model.safetensors", "does not have: [h.7.attn.c_attn.weight]");
    }

    @Test
    void truncatedAndOversizedHeaders(@TempDir Path dir) throws Exception {
        saved(dir);
        Path st = dir.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(st);
        Files.write(st, java.util.Arrays.copyOf(good, good.length - 10));
        assertBad(dir, "model.safetensors", "truncated");
        Files.write(st, java.util.Arrays.copyOf(good, 5));
        assertBad(dir, "model.safetensors", "truncated");
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(st, huge);
        assertBad(dir, "model.safetensors", "header length 1099511627776 is invalid");
        byte[] bad = good.clone();
        bad[8] = 'x';
        Files.write(st, bad);
        assertBad(dir, "model.safetensors", "not valid JSON");
        String header = new String(good, 8, 200, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(header.contains("\"F32\""));
        byte[] f8 = new String(good, java.nio.charset.StandardCharsets.ISO_8859_1).replaceFirst("\"F32\"", "\"I64\"")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        Files.write(st, f8);
        assertBad(dir, "model.safetensors", "dtype I64 is not supported");
        Files.delete(st);
        assertBad(dir, "model.safetensors", "no such file");
    }

    @Test
    void failedWriteKeepsTheOldModel(@TempDir Path dir) throws Exception {
        saved(dir);
        byte[] before = Files.readAllBytes(dir.resolve("model.safetensors"));
        try (GptModel m = GptModel.create(CFG, 6)) {
            Map<String, INDArray> bad = new LinkedHashMap<>();
            bad.put("x", m.params().get("wte.weight"));
            assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("model.safetensors"), bad, Map.of(), "I8"));
        }
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("model.safetensors")));
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(".tmp")));
        }
    }
}
