package dev.gpt4j.sql;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A small tokenizer learnt from SQL-ish text, and untrained models sized for it. */
final class Fixtures {
    private Fixtures() {}

    static final String DDL = "CREATE TABLE singer (singer_id INT PRIMARY KEY, name TEXT, country TEXT, age INT);\n"
            + "CREATE TABLE concert (concert_id INT PRIMARY KEY, concert_name TEXT, singer_id INT REFERENCES singer(singer_id));";

    private static BpeTokenizer tokenizer;

    private static final java.util.Set<String> REPORTED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * The data folder ({@code -Dgpt4j.data}, which the build sets to ../shared/data or to {@code GPT4J_DATA}; else
     * {@code GPT4J_DATA}; else ../shared/data found upwards from here) for a test that reads the data sets, once the
     * entries it {@code needs} (e.g. "spider", "gpt2/vocab.json") are there. When one is not, the test is skipped (the
     * first skip in this JVM prints one line naming what is missing), unless {@code GPT4J_REQUIRE_DATA} is set, as
     * {@code .ci/run} does: then the test fails.
     */
    static Path dataDir(String... needs) {
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

    static synchronized BpeTokenizer tokenizer() {
        if (tokenizer == null) {
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                texts.add("SELECT count(*) FROM singer WHERE age > " + i + " ;");
                texts.add("SELECT name , country FROM singer ORDER BY age DESC");
                texts.add("SELECT T1.concert_name FROM concert AS T1 JOIN singer AS T2 ON T1.singer_id = T2.singer_id");
                texts.add("How many singers are there? What are the names of singers older than " + i + "?");
            }
            tokenizer = new BpeTrainer(400, PromptFormat.SPECIAL_TOKENS).train(texts);
        }
        return tokenizer;
    }

    static GptModel model(int contextLength, long seed) {
        GptConfig cfg = new GptConfig(tokenizer().vocabSize(), contextLength, 32, 2, 4, 0.0, 1e-5, true, true);
        GptModel m = GptModel.create(cfg, seed);
        m.params().values().muli(3.0); // spread the logits, so that greedy choices are clear-cut
        return m.eval();
    }
}
