package dev.gpt4j.tokenizer;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Malformed vocab.json / merges.txt: the error names the file and the line. */
class BadFilesTest {
    @TempDir
    Path dir;
    Path vocab, merges;

    @BeforeEach
    void writeGoodFiles() throws Exception {
        new BpeTrainer(260, List.of("<|endoftext|>")).train(List.of("hello hello hello world world")).save(dir);
        vocab = dir.resolve("vocab.json");
        merges = dir.resolve("merges.txt");
        BpeTokenizer.load(dir); // the unbroken files load
    }

    TokenizerFileException fails(Path file, int line, String fragment) {
        TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> BpeTokenizer.load(dir));
        assertEquals(file, e.file());
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        return e;
    }

    @Test
    void badJson() throws Exception {
        Files.writeString(vocab, "{\n\"a\": 0,\n\"b\": 1,\n\"c\" 2}\n");
        fails(vocab, 4, "malformed JSON");
    }

    @Test
    void notAnObject() throws Exception {
        Files.writeString(vocab, "[1, 2]");
        fails(vocab, 1, "expected a JSON object");
    }

    @Test
    void nonIntegerId() throws Exception {
        Files.writeString(vocab, Files.readString(vocab).replaceFirst(":0([,}])", ":\"zero\"$1"));
        fails(vocab, 1, "must be an integer");
    }

    @Test
    void duplicateIds() throws Exception {
        // one entry a line: line k+2 holds id k
        var om = new com.fasterxml.jackson.databind.ObjectMapper();
        java.util.LinkedHashMap<String, Integer> m = om.readValue(vocab.toFile(),
                new com.fasterxml.jackson.core.type.TypeReference<java.util.LinkedHashMap<String, Integer>>() {});
        m.put("#", 1);
        Files.writeString(vocab, om.writerWithDefaultPrettyPrinter().writeValueAsString(m));
        fails(vocab, 4, "duplicate id 1: given to \"\\\"\" and to \"#\"");
    }

    @Test
    void missingByteToken() throws Exception {
        Files.writeString(vocab, Files.readString(vocab).replace("\"!\":0,", ""));
        TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> BpeTokenizer.load(dir));
        assertTrue(e.getMessage().contains("ids must run from 0") || e.getMessage().contains("no token for byte 0x21"),
                e.getMessage());
    }

    @Test
    void missingVersionLine() throws Exception {
        List<String> lines = Files.readAllLines(merges);
        Files.write(merges, lines.subList(1, lines.size()));
        fails(merges, 1, "version line");
    }

    @Test
    void mergeOfUnknownToken() throws Exception {
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(merges));
        lines.set(2, "xyz q");
        Files.write(merges, lines);
        fails(merges, 3, "merge of unknown token \"xyz\"");
    }

    @Test
    void mergedTokenNotInVocabulary() throws Exception {
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(merges));
        lines.add("q z");
        Files.write(merges, lines);
        fails(merges, lines.size(), "\"qz\" is not in the vocabulary");
    }

    @Test
    void mergeLineOfThreeTokens() throws Exception {
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(merges));
        lines.set(1, lines.get(1) + " x");
        Files.write(merges, lines);
        fails(merges, 2, "two tokens separated by one space");
    }

    @Test
    void duplicateMerge() throws Exception {
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(merges));
        lines.add(lines.get(1));
        Files.write(merges, lines);
        fails(merges, lines.size(), "duplicate merge");
    }

    @Test
    void missingFileIsAnUncheckedIoErrorNamingIt() throws Exception {
        Files.delete(merges);
        var e = assertThrows(java.io.UncheckedIOException.class, () -> BpeTokenizer.load(dir));
        assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());
    }

    @Test
    void failedSaveLeavesTheOldFilesWhole() throws Exception {
        String before = Files.readString(vocab);
        Path blocked = dir.resolve("sub");
        Files.writeString(blocked, "a file where a folder should be");
        BpeTokenizer t = BpeTokenizer.load(dir);
        assertThrows(java.io.UncheckedIOException.class, () -> t.save(blocked));
        assertEquals(before, Files.readString(vocab));
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }
}
