package dev.gpt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoreCommandTest {
    static final Path DATA = Path.of(System.getProperty("gpt4j.data", "../../shared/data"));
    String out;
    String err;

    int run(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int rc = Gpt4jCommand.run(args, new PrintWriter(o), new PrintWriter(e));
        out = o.toString();
        err = e.toString();
        return rc;
    }

    private String lastLine() {
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void spiderGoldFileScoresFullMarksAndWritesAReport(@TempDir Path tmp) throws Exception {
        TestData.dir("spider");
        Path report = tmp.resolve("r.json");
        assertEquals(0, run("score", "--dataset", "spider", "--data", DATA.resolve("spider").toString(), "--split", "dev",
                "--predictions", DATA.resolve("spider/dev_gold.sql").toString(), "--json", report.toString()), err);
        assertEquals("execution accuracy: 100.00% (972/972)", lastLine());
        assertTrue(out.contains("skipped 62: (wta_1): database file missing"), out);
        assertTrue(Files.readString(report).contains("\"scored\" : 972"));
    }

    @Test
    void wikisqlGoldRoundTripAndABrokenFile(@TempDir Path tmp) throws Exception {
        TestData.dir("wikisql");
        Path gold = tmp.resolve("gold.sql");
        String data = DATA.resolve("wikisql").toString();
        assertEquals(0, run("gold", "--dataset", "wikisql", "--data", data, "--out", gold.toString()), err);
        assertEquals(0, run("score", "--dataset", "wikisql", "--data", data, "--predictions", gold.toString()), err);
        assertEquals("logical-form accuracy: 100.00% (8421/8421)", lastLine());

        // every prediction keeps its select but gets a condition that no gold query has: right select, wrong where
        List<String> broken = new ArrayList<>();
        java.util.regex.Pattern firstColumn = java.util.regex.Pattern.compile("\"(?:[^\"]|\"\")*\"");
        for (String line : Files.readAllLines(gold)) {
            java.util.regex.Matcher m = firstColumn.matcher(line);
            assertTrue(m.find(), line);
            broken.add(line.replaceFirst(" WHERE .*", "") + " WHERE " + m.group() + " = 'gpt4j: no such value'");
        }
        Files.write(gold, broken);
        assertEquals(0, run("score", "--dataset", "wikisql", "--data", data, "--predictions", gold.toString(), "--show-wrong", "1"), err);
        assertTrue(out.startsWith("wrong #0 ["), out);
        assertEquals("logical-form accuracy: 0.00% (0/8421)", lastLine());
        assertTrue(out.contains("  select   100.00%") && out.contains("  where      0.00%"), out);
    }

    @Test
    void badArgumentsAreOneLineErrors(@TempDir Path tmp) throws Exception {
        TestData.dir("spider");
        Path p = tmp.resolve("p.sql");
        Files.writeString(p, "SELECT 1\n");
        assertEquals(1, run("score", "--dataset", "sqlnet", "--predictions", p.toString()));
        assertEquals("gpt4j score: --dataset must be spider or wikisql, got sqlnet\n", err);
        assertEquals(1, run("score", "--dataset", "spider", "--data", DATA.resolve("spider").toString(), "--predictions", p.toString()));
        assertEquals("gpt4j score: " + p + ": has 1 lines but the split has 1034 questions (one prediction per line, in the split's order)\n", err);
        assertEquals(1, run("score", "--dataset", "spider", "--data", tmp.resolve("none").toString(), "--predictions", p.toString()));
        assertTrue(err.startsWith("gpt4j score: no spider folder at "), err);
        assertFalse(err.contains("\tat "));
    }
}
