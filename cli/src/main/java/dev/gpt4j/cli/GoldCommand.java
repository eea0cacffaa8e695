package dev.gpt4j.cli;

import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import dev.gpt4j.data.WikiSql;
import dev.gpt4j.data.WikiSqlScorer;
import dev.gpt4j.tokenizer.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "gold", mixinStandardHelpOptions = true,
        description = {"Writes the gold SQL of a split, one query per line: the format 'gpt4j score' reads.",
                "WikiSQL's logical forms are rendered to SQL; Spider's queries are written with whitespace normalized.",
                "Example: gpt4j gold --dataset wikisql --split dev --out wikisql-dev-gold.sql"})
final class GoldCommand implements Callable<Integer> {
    @Option(names = "--dataset", required = true, paramLabel = "NAME", description = "spider or wikisql.")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR",
            description = "The dataset folder (default: ../shared/data/<dataset> beside the project).")
    Path data;

    @Option(names = "--split", defaultValue = "dev", paramLabel = "SPLIT", description = "Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write (atomically).")
    Path out;

    @Override
    public Integer call() throws IOException {
        String ds = DataSets.dataset(dataset);
        Path dir = DataSets.folder(ds, data);
        List<String> lines = new ArrayList<>();
        if (ds.equals("spider")) {
            for (SpiderExample e : DataSets.spiderSplit(Spider.open(dir), split)) {
                lines.add(dev.gpt4j.data.SqlText.normalizeSpace(e.query()).replace('\n', ' '));
            }
        } else {
            WikiSql w = WikiSql.open(dir);
            lines.addAll(WikiSqlScorer.goldSql(DataSets.wikiSplit(w, split).examples(), w.tables(split)));
        }
        AtomicFiles.write(out, o -> o.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8)));
        return 0;
    }
}
