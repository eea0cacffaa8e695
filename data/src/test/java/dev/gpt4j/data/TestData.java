package dev.gpt4j.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;

/** The data sets (../shared/data) for the tests that read them ({@link #dir}), and a small SQLite fixture built on the fly. */
final class TestData {
    private TestData() {}

    private static final java.util.Set<String> REPORTED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * The data folder ({@code -Dgpt4j.data}, which the build sets to ../shared/data or to {@code GPT4J_DATA}; else
     * {@code GPT4J_DATA}; else ../shared/data found upwards from here) for a test that reads the data sets, once the
     * entries it {@code needs} (e.g. "spider", "gpt2/vocab.json") are there. When one is not, the test is skipped (the
     * first skip in this JVM prints one line naming what is missing), unless {@code GPT4J_REQUIRE_DATA} is set, as
     * {@code .ci/run} does: then the test fails.
     */
    static Path dir(String... needs) {
        Path dir = locate();
        List<String> wanted = new java.util.ArrayList<>(List.of(""));
        wanted.addAll(List.of(needs));
        for (String n : wanted) {
            Path p = dir.resolve(n).normalize();
            if (Files.exists(p)) continue;
            String why = "needs the data sets, and " + p + " is missing (README, Data: what to download; GPT4J_DATA or -Dgpt4j.data=DIR)";
            String flag = System.getenv("GPT4J_REQUIRE_DATA");
            if (flag != null && !flag.isBlank() && !flag.equals("0") && !flag.equalsIgnoreCase("false")) {
                throw new AssertionError("GPT4J_REQUIRE_DATA is set, but this test " + why);
            }
            if (REPORTED.add(p.toString())) System.out.println("[gpt4j] skipping the tests that read the data sets: " + p + " is missing");
            org.junit.jupiter.api.Assumptions.abort(why);
        }
        return dir;
    }

    private static Path locate() {
        String prop = System.getProperty("gpt4j.data");
        if (prop != null && !prop.isBlank()) return Path.of(prop).toAbsolutePath().normalize();
        String env = System.getenv("GPT4J_DATA");
        if (env != null && !env.isBlank()) return Path.of(env).toAbsolutePath().normalize();
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("../shared/data").normalize();
            if (Files.isDirectory(candidate)) return candidate;
        }
        return Path.of("../../shared/data").toAbsolutePath().normalize();
    }

    static final String CONCERT_DDL = """
            CREATE TABLE stadium (
              stadium_id INTEGER PRIMARY KEY,
              name TEXT,
              capacity INTEGER
            );
            CREATE TABLE singer (
              singer_id INTEGER PRIMARY KEY,
              name TEXT,
              country TEXT,
              age INTEGER
            );
            CREATE TABLE concert (
              concert_id INTEGER PRIMARY KEY,
              concert_name TEXT,
              stadium_id INTEGER REFERENCES stadium(stadium_id),
              year INTEGER
            );
            """;

    /** Writes a small concert database (3 tables, a few rows) to {@code file}. */
    static Path concertDb(Path file) throws Exception {
        Files.createDirectories(file.getParent());
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement s = c.createStatement()) {
            for (String stmt : SqlText.statements(CONCERT_DDL)) {
                s.execute(stmt);
            }
            s.execute("INSERT INTO stadium VALUES (1, 'Hampden', 52000), (2, 'Balmoor', 4000), (3, 'Glebe', 3960)");
            s.execute("INSERT INTO singer VALUES (1, 'Joe', 'Netherlands', 52), (2, 'Timbaland', 'United States', 32),"
                    + " (3, 'Justin', 'France', 29), (4, 'Rose', 'France', 41), (5, 'John', 'United States', 43)");
            s.execute("INSERT INTO concert VALUES (1, 'Auditions', 1, 2014), (2, 'Super bootcamp', 2, 2014),"
                    + " (3, 'Home Visits', 2, 2015), (4, 'Week 1', 3, 2015)");
        }
        return file;
    }
}
