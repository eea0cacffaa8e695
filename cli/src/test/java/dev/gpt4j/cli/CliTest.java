package dev.gpt4j.cli;

import dev.gpt4j.tokenizer.BpeTokenizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class CliTest {
    static final Path GPT2 = Path.of(System.getProperty("gpt4j.data", "../../shared/data")).resolve("gpt2");
    final InputStream stdin = System.in;
    String out, err;

    @AfterEach
    void restore() {
        System.setIn(stdin);
    }

    int run(String input, String... args) {
        System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        StringWriter o = new StringWriter(), e = new StringWriter();
        int rc = Gpt4jCommand.run(args, new PrintWriter(o), new PrintWriter(e));
        out = o.toString();
        err = e.toString();
        return rc;
    }

    @Test
    void tokenizeThenDetokenize() {
        TestData.dir("gpt2/vocab.json", "gpt2/merges.txt");
        String input = "\"How many singers are there?\"\n\"a<|endoftext|>b\"\n\"\"\n\"é😀\\n\"\n";
        assertEquals(0, run(input, "tokenize", "--vocab", GPT2.toString()), err);
        String[] lines = out.split("\n");
        assertEquals(4, lines.length);
        BpeTokenizer gpt2 = BpeTokenizer.load(GPT2);
        assertEquals(java.util.Arrays.toString(gpt2.encode("How many singers are there?")).replace(" ", ""), lines[0]);
        assertEquals("[64,50256,65]", lines[1]);
        assertEquals("[]", lines[2]);
        String ids = out;
        assertEquals(0, run(ids, "detokenize", "--vocab", GPT2.toString()), err);
        assertEquals(input, out);
    }

    @Test
    void specialTokenPolicies() {
        TestData.dir("gpt2/vocab.json", "gpt2/merges.txt");
        assertEquals(0, run("\"a<|endoftext|>\"\n", "tokenize", "--vocab", GPT2.toString(), "--special", "plain"));
        assertFalse(out.contains("50256"), out);
        assertEquals(1, run("\"ok\"\n\"a<|endoftext|>\"\n", "tokenize", "--vocab", GPT2.toString(), "--special", "refuse"));
        assertEquals("[482]\n", out, "lines before the error are written");
        assertTrue(err.startsWith("gpt4j tokenize: standard input line 2: ") && err.contains("<|endoftext|>"), err);
        assertFalse(err.contains("\tat "), "no stack trace without --verbose");
        assertEquals(1, run("\"a\"\n", "tokenize", "--vocab", GPT2.toString(), "--special", "maybe"));
        assertTrue(err.contains("--special must be allow, refuse or plain"), err);
    }

    @Test
    void badInputNamesTheLine() {
        TestData.dir("gpt2/vocab.json", "gpt2/merges.txt");
        assertEquals(1, run("\"x\"\n42\n", "tokenize", "--vocab", GPT2.toString()));
        assertTrue(err.contains("line 2: expected a JSON string"), err);
        assertEquals(1, run("[1,2]\n[3, 50257]\n", "detokenize", "--vocab", GPT2.toString()));
        assertTrue(err.contains("line 2: token id 50257 at position 1 is out of range"), err);
        assertEquals(1, run("[1, \"a\"]\n", "detokenize", "--vocab", GPT2.toString()));
        assertTrue(err.contains("line 1: element 1 is not a token id"), err);
        assertEquals(1, run("", "tokenize", "--vocab", "/no/such/dir"));
        assertEquals("gpt4j tokenize: --vocab /no/such/dir: no such folder\n", err);
        assertEquals(1, run("", "tokenize", "--vocab", "/no/such/dir", "--verbose"));
        assertTrue(err.contains("\tat "), "--verbose prints the stack trace");
    }

    @Test
    void trainTokenizer(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("c.txt");
        Files.writeString(corpus, Files.readString(TestData.dir("text/the-verdict.txt").resolve("text/the-verdict.txt")));
        assertEquals(0, run("", "train-tokenizer", "--input", corpus.toString(), "--vocab-size", "600",
                "--special", "<|endoftext|>,<|sql|>", "--out", dir.resolve("tok").toString()), err);
        assertTrue(out.startsWith("trained 600 ids (342 merges"), out);
        BpeTokenizer t = BpeTokenizer.load(dir.resolve("tok"));
        assertEquals(599, t.specialTokenId("<|sql|>"));
        assertEquals(0, run("\"I HAD always thought\"\n", "tokenize", "--vocab", dir.resolve("tok").toString()));
        assertEquals(java.util.Arrays.toString(t.encode("I HAD always thought")).replace(" ", "") + "\n", out);
    }
}
