package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorrectionsTest {
    @TempDir
    Path dir;

    @Test
    void badLinesAreNamedSkippedAndCountedAndGoodOnesKeptWhole() throws Exception {
        Path db = TestData.concertDb(dir.resolve("c.sqlite"));
        Path f = dir.resolve("fb.tsv");
        Files.writeString(f, String.join("\n",
                "question\tsql",                                                            // 1: header
                "How many singers are French?\tSELECT count(*) FROM singer WHERE country = 'France'", // 2: good
                "no tab on this line",                                                      // 3
                "# a comment",                                                              // 4
                "\tSELECT 1",                                                               // 5: no question
                "Drop them all\tDROP TABLE singer",                                         // 6: refused
                "Oldest singer?\tSELECT name FROM singer ORDER BY agee DESC LIMIT 1",       // 7: fails on the database
                "",                                                                         // 8
                "Which stadiums hold more than 4000?\tSELECT  name FROM stadium   WHERE capacity > 4000\r", // 9: good (CRLF, spaces)
                "Two at once\tSELECT 1; SELECT 2",                                          // 10: refused
                "Empty SQL\t   "), StandardCharsets.UTF_8);                                 // 11
        try (SqliteDatabase d = SqliteDatabase.open(db)) {
            Corrections c = Corrections.read(f, d);
            assertEquals(List.of(2, 9), c.pairs().stream().map(Corrections.Pair::line).toList());
            assertEquals("SELECT name FROM stadium WHERE capacity > 4000", c.pairs().get(1).sql());
            assertEquals("How many singers are French?", c.pairs().get(0).question());
            assertEquals(6, c.skipped().size(), c.skipped().toString());
            for (String n : List.of("line 3:", "line 5:", "line 6:", "line 7:", "line 10:", "line 11:")) {
                assertTrue(c.skipped().stream().anyMatch(s -> s.startsWith(n)), n + " in " + c.skipped());
            }
            assertTrue(c.skipped().stream().anyMatch(s -> s.startsWith("line 7:") && s.contains("agee")), c.skipped().toString());
        }
        // without a database the SQL is only checked by the guard: line 7 passes then
        assertEquals(3, Corrections.read(f, null).pairs().size());
    }

    @Test
    void aFileThatCannotBeReadIsOneError() throws Exception {
        DataFileException e = assertThrows(DataFileException.class, () -> Corrections.read(dir.resolve("missing.tsv"), null));
        assertTrue(e.getMessage().contains("missing.tsv"), e.getMessage());
        Path bin = dir.resolve("latin1.tsv");
        Files.write(bin, new byte[] {'Q', (byte) 0xE9, '\t', 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1'});
        e = assertThrows(DataFileException.class, () -> Corrections.read(bin, null));
        assertTrue(e.getMessage().contains("latin1.tsv") && e.getMessage().contains("UTF-8"), e.getMessage());
    }
}
