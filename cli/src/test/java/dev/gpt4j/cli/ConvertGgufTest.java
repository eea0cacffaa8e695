package dev.gpt4j.cli;

import dev.gpt4j.core.GgufModelFiles;
import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.gguf.GgmlType;
import dev.gpt4j.core.gguf.GgufFile;
import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** convert --format gguf, and a .gguf file wherever a command takes --model. */
class ConvertGgufTest extends CommandRun {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void makeModel() {
        BpeTokenizer tok = new BpeTrainer(400, PromptFormat.SPECIAL_TOKENS).train(List.of(
                "SELECT count(*) FROM singer", "How many singers are there?", "CREATE TABLE singer (name TEXT, age INT)"));
        model = dir.resolve("m");
        try (GptModel m = GptModel.create(new GptConfig(tok.vocabSize(), 64, 64, 1, 2, 0.0, 1e-5, true, true), 1)) {
            m.save(model);
        }
        tok.save(model);
    }

    @Test
    void convertWritesGgufInEachTypeAndReadsItBack() throws Exception {
        for (String dtype : List.of("f32", "f16", "q8_0", "q4_0")) {
            Path file = dir.resolve("m-" + dtype + ".gguf");
            assertEquals(0, run("convert", "--model", model.toString(), "--format", "gguf", "--dtype", dtype, "--out", file.toString()), err);
            assertTrue(out.startsWith("wrote " + file + " (" + dtype + " GGUF weights"), out);
            try (GgufFile f = GgufFile.open(file)) {
                assertEquals("gpt2", f.getString("general.architecture"));
                assertEquals("m", f.getString("general.name"));
                assertEquals(GgmlType.valueOf(dtype.toUpperCase()), f.tensor("blk.0.ffn_up.weight").type());
            }
        }
        // a GGUF file as --model: back to a model folder, with the tokenizer the file holds
        Path back = dir.resolve("back");
        assertEquals(0, run("convert", "--model", dir.resolve("m-q8_0.gguf").toString(), "--dtype", "q8_0", "--out", back.toString()), err);
        try (GptModel m = GptModel.load(back); GgufModelFiles.Model g = GgufModelFiles.load(dir.resolve("m-q8_0.gguf"))) {
            assertEquals(g.model().config(), m.config());
            for (var e : g.model().packedWeights().entrySet()) {
                assertEquals(QuantType.Q8_0, m.packedWeights().get(e.getKey()).type());
                assertArrayEquals(e.getValue().dequantize(), m.packedWeights().get(e.getKey()).dequantize(), e.getKey());
            }
            assertEquals(BpeTokenizer.load(model).specialTokens(), BpeTokenizer.load(back).specialTokens());
        }
        // and wherever a command takes a model
        assertEquals(0, run("generate", "--model", dir.resolve("m-f32.gguf").toString(), "--prompt", "SELECT", "--max-tokens", "5"), err);
        String fromFile = out;
        assertEquals(0, run("generate", "--model", model.toString(), "--prompt", "SELECT", "--max-tokens", "5"), err);
        assertEquals(out, fromFile, "the F32 file generates what its folder generates");
    }

    @Test
    void badGgufRequestsAreOneLineErrors() throws Exception {
        assertEquals(1, run("convert", "--model", model.toString(), "--format", "gguf", "--dtype", "nf4", "--out", dir.resolve("x.gguf").toString()));
        assertEquals("gpt4j convert: --dtype nf4 has no GGUF type: choose f32, f16, q8_0 or q4_0 with --format gguf", err.strip());
        assertEquals(1, run("convert", "--model", model.toString(), "--format", "ggml", "--out", dir.resolve("x.gguf").toString()));
        assertEquals("gpt4j convert: --format must be hf or gguf, not ggml", err.strip());
        Path exists = Files.writeString(dir.resolve("exists.gguf"), "x");
        assertEquals(1, run("convert", "--model", model.toString(), "--format", "gguf", "--out", exists.toString()));
        assertTrue(err.contains("already exists (convert writes a new file)"), err);
        assertEquals(1, run("generate", "--model", exists.toString(), "--prompt", "x"));
        assertTrue(err.contains(exists.toString()) && err.strip().split("\n").length == 1, err);
        assertFalse(Files.exists(dir.resolve("x.gguf")));
    }
}
