package dev.gpt4j.cli;

import dev.gpt4j.data.DataDir;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import dev.gpt4j.data.WikiSql;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The {@code --dataset}/{@code --data}/{@code --split} options shared by score, gold and (later) eval. */
final class DataSets {
    private DataSets() {}

    /** spider or wikisql, else a one-line error. */
    static String dataset(String name) {
        String d = name.toLowerCase(Locale.ROOT);
        if (!d.equals("spider") && !d.equals("wikisql")) {
            throw new CliException("--dataset must be spider or wikisql, got " + name);
        }
        return d;
    }

    /**
     * The data folder of a dataset: {@code --data} when given, else {@code <dataset>} in the data folder
     * ({@link DataDir}: {@code -Dgpt4j.data}, {@code GPT4J_DATA}, or {@code ../shared/data} beside the project root).
     */
    static Path folder(String dataset, Path given) {
        Path dir = given != null ? given : DataDir.resolve().resolve(dataset);
        if (!Files.isDirectory(dir)) {
            throw new CliException("no " + dataset + " folder at " + dir + " (give one with --data DIR, or set " + DataDir.ENV + ")");
        }
        return dir;
    }

    static List<SpiderExample> spiderSplit(Spider s, String split) {
        try {
            return s.examples(split);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }

    static WikiSql.Loaded wikiSplit(WikiSql w, String split) {
        if (!Files.isRegularFile(w.dir().resolve(split + ".jsonl"))) {
            throw new CliException("no WikiSQL split " + split + " in " + w.dir() + " (expected " + split + ".jsonl)");
        }
        return w.examples(split);
    }
}
