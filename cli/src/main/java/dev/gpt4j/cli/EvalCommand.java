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
import java.nio.file.Files;
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

    @Option(names = "--adapters", paramLabel = "DIR", description = "A folder of adapters, one per database, as gpt4j adapt writes them "
            + "(Spider: DIR/<db_id>, WikiSQL: DIR/<table id>): each database's questions are answered with its adapter; a database without one "
            + "with the model alone.")
    Path adapters;

    @Option(names = "--only-in", paramLabel = "DIR", description = "Only the questions whose database (WikiSQL: table) has a folder in DIR, "
            + "e.g. the --adapters folder: the same questions with and without adapters.")
    Path onlyIn;

    @Option(names = "--by-database", description = "Also print the accuracy of each database (WikiSQL: table), before the summary.")
    boolean byDatabase;

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
            if (adapters != null) {
                if (!Files.isDirectory(adapters)) throw new CliException("no adapters folder at " + adapters);
                if (model.adapter != null) throw new CliException("--adapters (one per database) and --adapter (one for all) contradict each other");
                if (executionGuided || options.decoding().beamWidth() > 1) throw new CliException("--adapters works with greedy decoding and --fallback-beam, not --beam");
            }
            if (onlyIn != null && !Files.isDirectory(onlyIn)) throw new CliException("no folder at " + onlyIn + " (--only-in)");
            java.util.function.Function<String, Path> adapterOf = id -> adapters != null && Files.isDirectory(adapters.resolve(id)) ? adapters.resolve(id) : null;
            java.util.function.Predicate<String> wanted = id -> onlyIn == null || Files.isDirectory(onlyIn.resolve(id));
            if (ds.equals("spider")) {
                Spider s = Spider.open(dir);
                List<SpiderExample> ex = Evaluator.first(DataSets.spiderSplit(s, split), limit).stream().filter(e -> wanted.test(e.dbId())).toList();
                if (adapters != null) {
                    warnMismatches(ex.stream().map(SpiderExample::dbId).distinct().toList(), id -> s.hasDatabase(id) ? s.schema(id) : null, adapterOf, err);
                    report = Evaluator.spider(t, s, ex, split, adapterOf, n -> err.printf("\r%d/%d answered", n, ex.size()).flush());
                } else {
                    report = Evaluator.spider(t, s, ex, split, executionGuided, n -> err.printf("\r%d/%d answered", n, ex.size()).flush());
                }
            } else {
                WikiSql w = WikiSql.open(dir);
                WikiSql.Loaded loaded = DataSets.wikiSplit(w, split);
                List<WikiSqlExample> ex = Evaluator.first(loaded.examples(), limit).stream().filter(e -> wanted.test(e.tableId())).toList();
                if (adapters != null) {
                    var tables = w.tables(split);
                    warnMismatches(ex.stream().map(WikiSqlExample::tableId).distinct().toList(), id -> tables.get(id).schema(), adapterOf, err);
                    report = Evaluator.wikiSql(t, w, split, ex, loaded.skipped(), adapterOf, n -> err.printf("\r%d/%d answered", n, ex.size()).flush());
                } else {
                    report = Evaluator.wikiSql(t, w, split, ex, loaded.skipped(), executionGuided, n -> err.printf("\r%d/%d answered", n, ex.size()).flush());
                }
            }
            err.println();
        }
        if (byDatabase) printByDatabase(report, out);
        ScoreCommand.print(report, showWrong, json, out);
        return 0;
    }

    /** One line per database (table): correct of scored, in the order they first occur. */
    static void printByDatabase(ScoreReport report, PrintWriter out) {
        java.util.Map<String, int[]> by = new java.util.LinkedHashMap<>();
        for (var i : report.items()) {
            int[] c = by.computeIfAbsent(i.db(), k -> new int[2]);
            c[0] += i.correct() ? 1 : 0;
            c[1]++;
        }
        by.forEach((db, c) -> out.printf(java.util.Locale.ROOT, "  %-40s %6.2f%% (%d/%d)%n", db, 100.0 * c[0] / c[1], c[0], c[1]));
    }

    /** A warning per database whose adapter's record names another schema than the one its questions come with. */
    private static void warnMismatches(List<String> ids, java.util.function.Function<String, dev.gpt4j.data.Schema> schemaOf,
                                       java.util.function.Function<String, Path> adapterOf, PrintWriter err) {
        int with = 0;
        for (String id : ids) {
            Path a = adapterOf.apply(id);
            dev.gpt4j.data.Schema sch = schemaOf.apply(id);
            if (a == null || sch == null) continue;
            with++;
            try {
                var r = dev.gpt4j.sql.AdapterRecord.read(a);
                if (r.isPresent() && !r.get().fits(sch)) {
                    err.println("warning: the adapter " + a + " was learned for the schema " + r.get().describe() + ", not " + id + "'s as this data set gives it");
                }
            } catch (IllegalArgumentException e) {
                throw new CliException(e.getMessage(), e);
            }
        }
        err.println(with + " of " + ids.size() + " databases have an adapter");
    }
}
