package dev.gpt4j.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared data sets, from -Dgpt4j.data or ../shared/data relative to the working folder. */
public final class BenchData {
    private BenchData() {}

    public static Path dir() {
        String prop = System.getProperty("gpt4j.data");
        if (prop != null) return Path.of(prop);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path c = p.resolve("../shared/data").normalize();
            if (Files.isDirectory(c.resolve("gpt2"))) return c;
        }
        throw new IllegalStateException("cannot find ../shared/data; run from the project root or pass -Dgpt4j.data=DIR");
    }

    /**
     * A named benchmark text: {@code verdict} (the-verdict.txt), {@code spider-questions} or {@code spider-sql}
     * (the questions or queries of Spider's train_spider.json, one per line).
     */
    public static String text(String name) {
        try {
            return switch (name) {
                case "verdict" -> Files.readString(dir().resolve("text/the-verdict.txt"));
                case "spider-questions", "spider-sql" -> {
                    JsonNode all = new ObjectMapper().readTree(dir().resolve("spider/train_spider.json").toFile());
                    StringBuilder sb = new StringBuilder();
                    String field = name.equals("spider-sql") ? "query" : "question";
                    for (JsonNode ex : all) sb.append(ex.get(field).asText()).append('\n');
                    yield sb.toString();
                }
                default -> throw new IllegalArgumentException("unknown text " + name);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
