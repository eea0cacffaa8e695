package dev.gpt4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Every reference encoding made with OpenAI's tiktoken (encoding gpt2) must come out exactly. */
class Gpt2ExactnessTest {
    static BpeTokenizer tok;

    /** Before each test, so that each one is reported skipped without GPT-2's vocabulary (it is loaded once). */
    @BeforeEach
    void load() {
        Path dir = TestData.gpt2();
        if (tok == null) tok = BpeTokenizer.load(dir);
    }

    @Test
    void vocabularyShape() {
        assertEquals(50257, tok.vocabSize());
        assertEquals(50000, tok.mergeCount());
        assertEquals(java.util.Map.of("<|endoftext|>", 50256), tok.specialTokens());
        assertEquals("Ġthe", tok.tokenString(262));
    }

    @Test
    void allTiktokenVectors() throws Exception {
        List<String> lines = Files.readAllLines(TestData.dir("gpt2/tiktoken-gpt2-vectors.jsonl").resolve("gpt2/tiktoken-gpt2-vectors.jsonl"));
        assertEquals(420, lines.size());
        assertAllMatch(lines);
    }

    /** Our own cases, made with npm tiktoken by benchmarks/tiktoken/make-vectors.mjs. */
    @Test
    void extraTiktokenVectors() throws Exception {
        try (var in = getClass().getResourceAsStream("/tiktoken-extra-vectors.jsonl")) {
            List<String> lines = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
            assertEquals(348, lines.size());
            assertAllMatch(lines);
        }
    }

    private static void assertAllMatch(List<String> lines) throws Exception {
        ObjectMapper om = new ObjectMapper();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            JsonNode n = om.readTree(lines.get(i));
            String text = n.get("text").asText();
            int[] expected = om.convertValue(n.get("ids"), int[].class);
            int[] actual = tok.encode(text);
            if (!java.util.Arrays.equals(expected, actual)) {
                failures.add("line " + (i + 1) + " " + om.writeValueAsString(text) + "\n  expected "
                        + java.util.Arrays.toString(expected) + "\n  actual   " + java.util.Arrays.toString(actual));
            }
            if (!text.equals(tok.decode(expected))) failures.add("line " + (i + 1) + ": decode differs");
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + lines.size() + " differ:\n" + String.join("\n", failures));
    }

    @Test
    void knownEncodings() {
        assertArrayEquals(new int[] {15496, 11, 995, 0}, tok.encode("Hello, world!"));
        assertArrayEquals(new int[] {50256}, tok.encode("<|endoftext|>"));
        assertEquals(List.of("SELECT", " name", " FROM", " singer"), tok.tokenize("SELECT name FROM singer"));
    }
}
