package dev.gpt4j.cli;

import dev.gpt4j.tokenizer.BpeTrainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** gpt4j data check: one line per data set, exit code 1 when one is missing or wrong, checksums when SHA256SUMS is there. */
class DataCommandTest extends CommandRun {

    List<String> lines() {
        return out.strip().lines().toList();
    }

    @Test
    void theSharedDataSetsCheckOut() {
        Path data = TestData.dir("gpt2", "text", "spider", "wikisql");
        assertEquals(0, run("data", "check", "--data", data.toString()), err + out);
        List<String> lines = lines();
        assertEquals(4, lines.size(), out);
        assertTrue(lines.get(0).matches("gpt2 +ok +vocab.json 50,257 tokens, merges.txt 50,000 merges.*"), out);
        assertTrue(lines.get(1).matches("text +ok +the-verdict.txt 20,479 characters.*"), out);
        assertTrue(lines.get(2).matches("spider +ok +166 databases, .*dev 1,034 questions, train 8,659 \\(7,000 \\+ 1,659\\).*"), out);
        assertTrue(lines.get(3).matches("wikisql +ok +dev 8,421 questions / 2,716 tables, train .*"), out);
        if (Files.isRegularFile(data.resolve("SHA256SUMS"))) assertTrue(lines.stream().allMatch(l -> l.contains("SHA256SUMS: ")), out);
        assertEquals("", err);
    }

    /** The shared folder's data sets, but The Verdict with one letter changed: the same length, another checksum. */
    @Test
    void aChangedFileFailsItsChecksum(@TempDir Path dir) throws Exception {
        Path data = TestData.dir("gpt2", "text/the-verdict.txt", "spider", "wikisql", "SHA256SUMS");
        for (String set : List.of("gpt2", "spider", "wikisql")) Files.createSymbolicLink(dir.resolve(set), data.resolve(set));
        Files.copy(data.resolve("SHA256SUMS"), dir.resolve("SHA256SUMS"));
        String verdict = Files.readString(data.resolve("text/the-verdict.txt"));
        Files.createDirectories(dir.resolve("text"));
        Files.writeString(dir.resolve("text/the-verdict.txt"), verdict.replaceFirst("Jack", "Jock"));
        assertEquals(1, run("data", "check", "--data", dir.toString()));
        List<String> lines = lines();
        assertEquals("text     BAD     text/the-verdict.txt does not match its SHA256SUMS checksum", lines.get(1));
        for (int i : new int[] {0, 2, 3}) assertTrue(lines.get(i).contains(" ok ") && lines.get(i).contains("SHA256SUMS: "), out);
        assertEquals("gpt4j data check: 1 of 4 data sets missing or wrong in " + dir + " (README, Data: what to download)", err.strip());
    }

    @Test
    void missingDataSetsAreNamed(@TempDir Path dir) {
        assertEquals(1, run("data", "check", "--data", dir.toString()));
        assertEquals(List.of("gpt2     MISSING no " + dir.resolve("gpt2"), "text     MISSING no " + dir.resolve("text"),
                "spider   MISSING no " + dir.resolve("spider"), "wikisql  MISSING no " + dir.resolve("wikisql")), lines());
        assertEquals("gpt4j data check: 4 of 4 data sets missing or wrong in " + dir + " (README, Data: what to download)", err.strip());
        assertEquals(0, run("data", "check", "--help"));
        assertTrue(out.contains("SHA256SUMS"), out);
    }

    /** Small stand-ins in the official formats, with the wrong sizes or a broken file: each line says what is wrong. */
    @Test
    void wrongFilesAreNamed(@TempDir Path dir) throws Exception {
        new BpeTrainer(300, List.of("<|endoftext|>")).train(List.of("SELECT count(*) FROM singer", "How many singers are there?"))
                .save(dir.resolve("gpt2"));
        Files.createDirectories(dir.resolve("text"));
        Files.writeString(dir.resolve("text/the-verdict.txt"), "x".repeat(20_479));
        Files.createDirectories(dir.resolve("spider"));
        for (String f : List.of("tables.json", "dev.json", "train_spider.json", "train_others.json")) Files.writeString(dir.resolve("spider").resolve(f), "[{");
        Files.createDirectories(dir.resolve("wikisql"));
        for (String split : List.of("dev", "train")) {
            Files.writeString(dir.resolve("wikisql").resolve(split + ".tables.jsonl"), "{\"id\": \"1-1\", \"header\": [\"Player\", \"Team\"]}\n");
            Files.writeString(dir.resolve("wikisql").resolve(split + ".jsonl"),
                    "{\"phase\": 1, \"table_id\": \"1-1\", \"question\": \"Who plays?\", \"sql\": {\"sel\": 0, \"conds\": [], \"agg\": 0}}\n");
        }
        String sum = DataCommand.sha256(dir.resolve("text/the-verdict.txt"));
        Files.writeString(dir.resolve("SHA256SUMS"), sum + "  ./text/the-verdict.txt\n" + "0".repeat(64) + "  ./text/other.txt\n");
        assertEquals(1, run("data", "check", "--data", dir.toString()));
        List<String> lines = lines();
        assertTrue(lines.get(0).matches("gpt2     BAD     vocab.json has \\d+ tokens; GPT-2's has 50,257"), out);
        assertEquals("text     BAD     SHA256SUMS lists text/other.txt, which is missing", lines.get(1));
        assertTrue(lines.get(2).startsWith("spider   BAD     ") && lines.get(2).contains("tables.json"), out);
        assertEquals("wikisql  BAD     dev.jsonl has 1 questions with a table (0 without), not 8,421; dev.tables.jsonl has 1 tables, not 2,716; "
                + "train.jsonl has 1 questions with a table; the official file has 56,355", lines.get(3));
        Files.writeString(dir.resolve("SHA256SUMS"), sum + "  ./text/the-verdict.txt\n");
        assertEquals(1, run("data", "check", "--data", dir.toString()));
        assertEquals("text     ok      the-verdict.txt 20,479 characters; SHA256SUMS: 1 file matches", lines().get(1));
    }
}
