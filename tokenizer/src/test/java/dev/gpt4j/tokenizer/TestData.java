package dev.gpt4j.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where ../shared/data is: the gpt4j.data system property (set by the build), or found from the working folder. */
final class TestData {
    private TestData() {}

    static Path dir() {
        String prop = System.getProperty("gpt4j.data");
        if (prop != null && Files.isDirectory(Path.of(prop))) return Path.of(prop);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("../shared/data").normalize();
            if (Files.isDirectory(candidate.resolve("gpt2"))) return candidate;
        }
        throw new IllegalStateException("cannot find ../shared/data (set -Dgpt4j.data=DIR)");
    }

    static Path gpt2() {
        return dir().resolve("gpt2");
    }
}
