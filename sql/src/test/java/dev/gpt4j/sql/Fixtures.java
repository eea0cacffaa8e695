package dev.gpt4j.sql;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;

import java.util.ArrayList;
import java.util.List;

/** A small tokenizer learnt from SQL-ish text, and untrained models sized for it. */
final class Fixtures {
    private Fixtures() {}

    static final String DDL = "CREATE TABLE singer (singer_id INT PRIMARY KEY, name TEXT, country TEXT, age INT);\n"
            + "CREATE TABLE concert (concert_id INT PRIMARY KEY, concert_name TEXT, singer_id INT REFERENCES singer(singer_id));";

    private static BpeTokenizer tokenizer;

    /** ../shared/data: the gpt4j.data property (set by the build), or found upwards from here. */
    static java.nio.file.Path dataDir() {
        String prop = System.getProperty("gpt4j.data");
        if (prop != null && java.nio.file.Files.isDirectory(java.nio.file.Path.of(prop))) return java.nio.file.Path.of(prop);
        for (java.nio.file.Path p = java.nio.file.Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            java.nio.file.Path candidate = p.resolve("../shared/data").normalize();
            if (java.nio.file.Files.isDirectory(candidate.resolve("spider"))) return candidate;
        }
        throw new IllegalStateException("cannot find ../shared/data (set -Dgpt4j.data=DIR)");
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
