package dev.gpt4j.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The data sets (../shared/data) for the tests that read them: see {@link #dir}. */
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

    /** GPT-2's vocabulary folder (skips without it). */
    static Path gpt2() {
        return dir("gpt2/vocab.json", "gpt2/merges.txt").resolve("gpt2");
    }
}
