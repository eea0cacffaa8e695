package dev.gpt4j.cli;

import dev.gpt4j.data.ScoreReport;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import dev.gpt4j.data.WikiSql;
import dev.gpt4j.data.WikiSqlExample;
import dev.gpt4j.sql.Evaluator;
import dev.gpt4j.sql.TextToSql;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Scores a model on a dev set: Spider by execution accuracy (with hardness levels), WikiSQL by logical form.",
                "The last line printed is the accuracy.",
                "Example: gpt4j eval --dataset wikisql --split dev --limit 500"})
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--dataset", required = true, paramLabel = "NAME", description = "spider or wikisql.")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR", description = "The dataset folder (default: ../shared/data/<dataset> beside the project).")
    Path data;

    @Option(names = "--split", defaultValue = "dev", paramLabel = "SPLIT", description = "Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "Only the first N questions (0 = all). Default: ${DEFAULT-VALUE}.")
    int limit;

    @Mixin
    SqlDecodingOptions decoding;

    @Option(names = "--execution-guided", description = "With --beam N (N >= 2): keep the greedy answer if it finds a value on the question's "
            + "database, else take the first of the beam's N candidates that does (Spider; WikiSQL only with tables files that have rows).")
    boolean executionGuided;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "Questions decoded together. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the JSON report with every item.")
    Path json;

    @Option(names = "--show-wrong", defaultValue = "0", paramLabel = "N", description = "Print the first N wrong items.")
    int showWrong;

    @Override
    public Integer call() {
        if (limit < 0) throw new CliException("--limit must be >= 0, got " + limit);
        TextToSql.Options options = decoding.options(batchSize);
        if (executionGuided && options.decoding().beamWidth() < 2) throw new CliException("--execution-guided needs --beam N with N >= 2");
        String ds = DataSets.dataset(dataset);
        Path dir = DataSets.folder(ds, data);
        PrintWriter out = spec.commandLine().getOut();
        ScoreReport report;
        try (TextToSql t = model.load()) {
            t.options(options);
            PrintWriter err = spec.commandLine().getErr();
            if (ds.equals("spider")) {
                Spider s = Spider.open(dir);
                List<SpiderExample> ex = Evaluator.first(DataSets.spiderSplit(s, split), limit);
                report = Evaluator.spider(t, s, ex, split, executionGuided, n -> err.printf("\r%d/%d answered", n, ex.size()).flush());
            } else {
                WikiSql w = WikiSql.open(dir);
                WikiSql.Loaded loaded = DataSets.wikiSplit(w, split);
                List<WikiSqlExample> ex = Evaluator.first(loaded.examples(), limit);
                report = Evaluator.wikiSql(t, w, split, ex, loaded.skipped(), executionGuided, n -> err.printf("\r%d/%d answered", n, ex.size()).flush());
            }
            err.println();
        }
        ScoreCommand.print(report, showWrong, json, out);
        return 0;
    }
}
