package dev.gpt4j.cli;

import dev.gpt4j.data.Predictions;
import dev.gpt4j.data.ScoreItem;
import dev.gpt4j.data.ScoreReport;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import dev.gpt4j.data.SpiderScorer;
import dev.gpt4j.data.WikiSql;
import dev.gpt4j.data.WikiSqlScorer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Scores a file of predicted SQL, one query per line in the split's order, as the official evaluators do.",
                "spider: execution accuracy on the SQLite databases (with hardness levels); wikisql: logical-form accuracy.",
                "The last line printed is the accuracy.",
                "Example: gpt4j score --dataset spider --split dev --predictions ../shared/data/spider/dev_gold.sql"})
final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dataset", required = true, paramLabel = "NAME", description = "spider or wikisql.")
    String dataset;

    @Option(names = "--data", paramLabel = "DIR",
            description = "The dataset folder (default: ../shared/data/<dataset> beside the project).")
    Path data;

    @Option(names = "--split", defaultValue = "dev", paramLabel = "SPLIT",
            description = "Split to score against (spider: dev, train, train_spider, train_others; wikisql: dev, train, test). Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--predictions", required = true, paramLabel = "FILE",
            description = "One predicted query per line, in the split's order; 'query<TAB>db_id' lines are accepted.")
    Path predictions;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write a JSON report with every item.")
    Path json;

    @Option(names = "--timeout-ms", defaultValue = "10000", paramLabel = "MS",
            description = "Spider: time limit per query; slower queries count as wrong. Default: ${DEFAULT-VALUE}.")
    long timeoutMs;

    @Option(names = "--show-wrong", defaultValue = "0", paramLabel = "N", description = "Print the first N wrong items.")
    int showWrong;

    @Override
    public Integer call() {
        String ds = DataSets.dataset(dataset);
        Path dir = DataSets.folder(ds, data);
        ScoreReport report;
        if (ds.equals("spider")) {
            Spider s = Spider.open(dir);
            List<SpiderExample> ex = DataSets.spiderSplit(s, split);
            List<String> dbIds = new ArrayList<>();
            ex.forEach(e -> dbIds.add(e.dbId()));
            List<String> preds = Predictions.read(predictions, dbIds);
            report = new SpiderScorer(s, Duration.ofMillis(timeoutMs), 1_000_000).score(split, ex, preds);
        } else {
            WikiSql w = WikiSql.open(dir);
            WikiSql.Loaded loaded = DataSets.wikiSplit(w, split);
            List<String> none = new ArrayList<>();
            loaded.examples().forEach(e -> none.add(null));
            List<String> preds = Predictions.read(predictions, none);
            report = WikiSqlScorer.score(split, loaded.examples(), w.tables(split), preds, loaded.skipped());
        }
        print(report, showWrong, json, spec.commandLine().getOut());
        return 0;
    }

    /** The first {@code showWrong} wrong items, the JSON report if asked for, then the summary (accuracy last). */
    static void print(ScoreReport report, int showWrong, Path json, PrintWriter out) {
        int shown = 0;
        for (ScoreItem i : report.wrong()) {
            if (shown++ >= showWrong) {
                break;
            }
            out.println("wrong #" + i.index() + " [" + i.db() + "] " + i.question());
            out.println("  gold:      " + i.gold());
            out.println("  predicted: " + i.predicted());
            out.println("  why:       " + i.error());
        }
        if (json != null) {
            report.writeJson(json);
        }
        out.println(report.summary());
        out.flush();
    }
}
