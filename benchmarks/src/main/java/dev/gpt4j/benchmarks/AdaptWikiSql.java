package dev.gpt4j.benchmarks;

import dev.gpt4j.data.WikiSql;
import dev.gpt4j.data.WikiSqlExample;
import dev.gpt4j.data.WikiSqlTable;
import dev.gpt4j.training.Adaptation;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * The WikiSQL half of gpt4j adapt's measurement: a fixed random sample of dev tables (seeded; tables with at least one
 * dev question), each adapted from its header alone ({@code wikisql} drill style, made-up values: the tables here have
 * no rows), one adapter per table in {@code OUT/<table id>/}, in one process (the replay data is read once). Only table
 * headers are used: no dev question or SQL. Then {@code gpt4j eval --dataset wikisql --only-in OUT [--adapters OUT]}
 * scores the sampled tables' questions without and with their adapters.
 *
 * <pre>java -cp benchmarks.jar dev.gpt4j.benchmarks.AdaptWikiSql MODEL WIKISQL_DIR OUT [TABLES [SEED [STEPS]]]</pre>
 */
public final class AdaptWikiSql {
    private AdaptWikiSql() {}

    public static void main(String[] args) {
        Path model = Path.of(args[0]), dir = Path.of(args[1]), out = Path.of(args[2]);
        int n = args.length > 3 ? Integer.parseInt(args[3]) : 200;
        long seed = args.length > 4 ? Long.parseLong(args[4]) : 2026;
        int steps = args.length > 5 ? Integer.parseInt(args[5]) : 60;
        WikiSql w = WikiSql.open(dir);
        Map<String, WikiSqlTable> tables = w.tables("dev");
        TreeSet<String> withQuestions = new TreeSet<>();
        for (WikiSqlExample e : w.examples("dev").examples()) withQuestions.add(e.tableId()); // which tables are asked about, not what
        List<String> ids = new ArrayList<>(withQuestions);
        Collections.shuffle(ids, new Random(seed));
        ids = ids.subList(0, Math.min(n, ids.size()));
        PrintStream log = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Adaptation.Settings s = Adaptation.Settings.defaults().withStyle("wikisql").withSteps(steps).withReplay(0.3, 0.2);
        Adaptation a = new Adaptation(model, s, log).progressBar(false);
        int done = 0;
        long t0 = System.nanoTime();
        for (String id : ids) {
            Path o = out.resolve(id);
            if (Files.isDirectory(o)) {
                done++;
                continue; // resumable: a table's folder is only ever complete
            }
            WikiSqlTable t = tables.get(id);
            a.adapt(new Adaptation.Request(id, t.schema(), "WikiSQL dev table header " + id, null, null, o, false));
            done++;
            log.printf("[%d/%d] %s %.0f s so far%n", done, ids.size(), id, (System.nanoTime() - t0) / 1e9);
        }
    }
}
