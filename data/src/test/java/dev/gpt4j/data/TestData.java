package dev.gpt4j.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/** ../shared/data (the gpt4j.data property, or found upwards), and a small SQLite fixture built on the fly. */
final class TestData {
    private TestData() {}

    static Path dir() {
        String prop = System.getProperty("gpt4j.data");
        if (prop != null && Files.isDirectory(Path.of(prop))) return Path.of(prop);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("../shared/data").normalize();
            if (Files.isDirectory(candidate.resolve("spider"))) return candidate;
        }
        throw new IllegalStateException("cannot find ../shared/data (set -Dgpt4j.data=DIR)");
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
