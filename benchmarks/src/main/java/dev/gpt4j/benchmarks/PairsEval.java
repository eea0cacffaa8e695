package dev.gpt4j.benchmarks;

import dev.gpt4j.data.Corrections;
import dev.gpt4j.data.QueryResult;
import dev.gpt4j.data.ResultMatch;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqlExecutionException;
import dev.gpt4j.data.SqliteDatabase;
import dev.gpt4j.sql.SqlAnswer;
import dev.gpt4j.sql.TextToSql;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Execution accuracy on hand-written question/SQL pairs for one database (a {@code question<TAB>sql} file), with ask's
 * defaults (constrained, fallback beam 4), with or without an adapter. How gpt4j adapt's settings were chosen without
 * Spider or WikiSQL dev data (benchmarks/adapt/*-questions.tsv).
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.gpt4j.benchmarks.PairsEval MODEL DB PAIRS.tsv [ADAPTER] [-v]</pre>
 */
public final class PairsEval {
    private PairsEval() {}

    public static void main(String[] args) {
        Path model = Path.of(args[0]), dbFile = Path.of(args[1]), pairs = Path.of(args[2]);
        Path adapter = args.length > 3 && !args[3].equals("-") && !args[3].equals("-v") ? Path.of(args[3]) : null;
        boolean verbose = List.of(args).contains("-v");
        try (SqliteDatabase db = SqliteDatabase.open(dbFile); TextToSql t = TextToSql.load(model, adapter)) {
            t.options(TextToSql.Options.defaults()); // ask's: constrained, fallback beam 4
            Schema schema = db.schema();
            Corrections c = Corrections.read(pairs, db);
            if (!c.skipped().isEmpty()) throw new IllegalArgumentException(pairs + ": " + c.skipped());
            List<String> qs = new ArrayList<>();
            for (Corrections.Pair p : c.pairs()) qs.add(p.question());
            List<Schema> ss = new ArrayList<>();
            for (int i = 0; i < qs.size(); i++) ss.add(schema);
            List<SqlAnswer> as = t.askAll(ss, qs);
            int ok = 0;
            for (int i = 0; i < qs.size(); i++) {
                Corrections.Pair p = c.pairs().get(i);
                boolean right;
                try {
                    QueryResult g = db.query(p.sql());
                    QueryResult r = db.queryUntrusted(as.get(i).sql());
                    right = ResultMatch.same(g, r, p.sql().toUpperCase(Locale.ROOT).contains("ORDER BY"));
                } catch (SqlExecutionException e) {
                    right = false;
                }
                ok += right ? 1 : 0;
                if (verbose) System.out.println((right ? "ok    " : "wrong ") + p.question() + "\n      " + as.get(i).sql());
            }
            System.out.printf(Locale.ROOT, "%s %s: %d/%d = %.1f%%%n", pairs.getFileName(), adapter == null ? "(no adapter)" : adapter, ok, qs.size(),
                    100.0 * ok / qs.size());
        }
    }
}
