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

    @Option(names = "--constrained", description = "Schema-constrained decoding.")
    boolean constrained;

    @Option(names = "--values-from-question", description = "With --constrained: string values must occur in the question (as WikiSQL's always do).")
    boolean valuesFromQuestion;

    @Option(names = "--link-tables", description = "With --constrained: after FROM, prefer (logit + "
            + dev.gpt4j.sql.SqlConstraint.TABLE_BONUS + ") the tables the question names, singular or plural, unless the SELECT list announces a join.")
    boolean linkTables;

    @Option(names = "--one-condition-per-column", description = "With --constrained: a WHERE clause tests each column at most once "
            + "(WikiSQL's grammar; wrong for ranges such as year > 2000 AND year < 2010).")
    boolean oneConditionPerColumn;

    @Option(names = "--fallback-beam", defaultValue = "0", paramLabel = "N", description = "With constrained decoding: when the greedy answer "
            + "never becomes a complete query (the constraint leaves no token, or the tokens run out), decode again with a beam search of width N and "
            + "take its best complete query (0 = off). Default: ${DEFAULT-VALUE}.")
    int fallbackBeam;

    @Option(names = "--beam", defaultValue = "1", paramLabel = "N",
            description = "Beam search of width N, one question at a time (1 = greedy, batched). Default: ${DEFAULT-VALUE}.")
    int beam;

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
        String ds = DataSets.dataset(dataset);
        Path dir = DataSets.folder(ds, data);
        PrintWriter out = spec.commandLine().getOut();
        ScoreReport report;
        try (TextToSql t = model.load()) {
            if (valuesFromQuestion && !constrained) throw new CliException("--values-from-question needs --constrained");
            if (linkTables && !constrained) throw new CliException("--link-tables needs --constrained");
            if (oneConditionPerColumn && !constrained) throw new CliException("--one-condition-per-column needs --constrained");
            if (beam < 1) throw new CliException("--beam must be >= 1, got " + beam);
            if (fallbackBeam < 0) throw new CliException("--fallback-beam must be >= 0, got " + fallbackBeam);
            if (fallbackBeam > 0 && !constrained) throw new CliException("--fallback-beam needs constrained decoding");
            if (executionGuided && beam < 2) throw new CliException("--execution-guided needs --beam N with N >= 2");
            t.options(TextToSql.Options.defaults().withConstrained(constrained).withValuesFromQuestion(valuesFromQuestion).withLinkTables(linkTables)
                    .withOneConditionPerColumn(oneConditionPerColumn)
                    .withBatchSize(batchSize).withBeam(beam).withFallbackBeam(fallbackBeam));
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
