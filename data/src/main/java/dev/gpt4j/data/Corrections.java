package dev.gpt4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Question/SQL pairs that users corrected, from a TSV file of {@code question<TAB>sql} lines (what
 * {@code gpt4j log export --corrections OUT.tsv} writes): the feedback {@code gpt4j adapt --feedback} learns from.
 *
 * <p>Every line is judged on its own: a pair is kept only if it has a question and SQL, the SQL is one read-only
 * query ({@link SqlGuard}), and, when a database is given, it runs on it without an error. A line that fails is named
 * by its number and reason in {@link #skipped()}, and nothing of it is used (a line is taken whole or not at all).
 * Blank lines, lines starting with {@code #}, and a first line {@code question<TAB>sql} (a header) are not pairs.
 *
 * @param file    the file read
 * @param pairs   the good pairs, in file order
 * @param skipped the lines left out, each {@code line N: reason}
 */
public record Corrections(Path file, List<Pair> pairs, List<String> skipped) {
    public Corrections {
        pairs = List.copyOf(pairs);
        skipped = List.copyOf(skipped);
    }

    /** One corrected pair and the line it came from. */
    public record Pair(int line, String question, String sql) {}

    /**
     * Reads and checks {@code file}; with {@code db} (may be null) each SQL must also run on it.
     *
     * @throws DataFileException if the file cannot be read at all (missing, not UTF-8): then nothing is used
     */
    public static Corrections read(Path file, SqliteDatabase db) {
        if (!Files.isRegularFile(file)) throw new DataFileException(file.toString(), "", "no such feedback file");
        List<String> lines;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            lines = r.lines().toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            Throwable c = e instanceof java.io.UncheckedIOException u ? u.getCause() : e;
            String why = c instanceof CharacterCodingException ? "not UTF-8 text" : c.getMessage();
            throw new DataFileException(file.toString(), "", "cannot read the feedback file: " + why, e);
        }
        List<Pair> pairs = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            int n = i + 1;
            String line = lines.get(i);
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (line.isBlank() || line.startsWith("#")) continue;
            if (n == 1 && line.strip().equalsIgnoreCase("question\tsql")) continue;
            int tab = line.indexOf('\t');
            if (tab < 0) {
                skipped.add("line " + n + ": no TAB between the question and the SQL");
                continue;
            }
            String q = line.substring(0, tab).strip(), sql = line.substring(tab + 1).strip();
            if (q.isEmpty()) {
                skipped.add("line " + n + ": the question is empty");
                continue;
            }
            if (sql.isEmpty()) {
                skipped.add("line " + n + ": the SQL is empty");
                continue;
            }
            SqlCheck check = SqlGuard.check(sql);
            if (!check.allowed()) {
                skipped.add("line " + n + ": the SQL is refused: " + check.reason());
                continue;
            }
            if (db != null) {
                try {
                    db.query(check.sql());
                } catch (SqlExecutionException e) {
                    skipped.add("line " + n + ": the SQL fails on " + db.file() + ": " + firstLine(e.getMessage()));
                    continue;
                }
            }
            pairs.add(new Pair(n, q, SqlText.normalizeSpace(sql)));
        }
        return new Corrections(file, pairs, skipped);
    }

    private static String firstLine(String m) {
        if (m == null) return "";
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
