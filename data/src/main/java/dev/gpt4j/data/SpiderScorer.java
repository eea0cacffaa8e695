package dev.gpt4j.data;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Spider execution accuracy: each prediction passes {@link SqlGuard}, then gold and prediction run on the
 * question's database (read-only, with a time-out) and their results are compared by {@link ResultMatch}
 * (row order only when the gold query has ORDER BY). Refusals, SQL errors and time-outs count as wrong.
 * Questions whose database file is missing are skipped and listed, never silently dropped.
 */
public final class SpiderScorer {
    private final Spider spider;
    private final Duration timeout;
    private final int maxRows;

    public SpiderScorer(Spider spider, Duration timeout, int maxRows) {
        this.spider = spider;
        this.timeout = timeout;
        this.maxRows = maxRows;
    }

    public SpiderScorer(Spider spider) {
        this(spider, Duration.ofSeconds(10), 1_000_000);
    }

    /** Scores {@code predictions} (one per example, same order). */
    public ScoreReport score(String split, List<SpiderExample> examples, List<String> predictions) {
        if (examples.size() != predictions.size()) {
            throw new IllegalArgumentException(examples.size() + " examples but " + predictions.size() + " predictions");
        }
        long t0 = System.nanoTime();
        List<ScoreItem> items = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Map<String, SqliteDatabase> open = new HashMap<>();
        try {
            for (int i = 0; i < examples.size(); i++) {
                SpiderExample ex = examples.get(i);
                if (!spider.hasDatabase(ex.dbId())) {
                    skipped.add(split + "#" + ex.index() + " (" + ex.dbId() + "): database file missing: " + spider.databasePath(ex.dbId()));
                    continue;
                }
                SqliteDatabase db = open.computeIfAbsent(ex.dbId(), id -> SqliteDatabase.open(spider.databasePath(id), timeout, maxRows));
                QueryResult gold;
                try {
                    gold = db.query(ex.query());
                } catch (SqlExecutionException e) {
                    skipped.add(split + "#" + ex.index() + " (" + ex.dbId() + "): the gold query fails: " + e.getMessage());
                    continue;
                }
                items.add(scoreOne(ex, gold, predictions.get(i), db));
            }
        } finally {
            open.values().forEach(SqliteDatabase::close);
        }
        return new ScoreReport("spider", split, "execution accuracy", items, skipped, System.nanoTime() - t0);
    }

    private static ScoreItem scoreOne(SpiderExample ex, QueryResult gold, String predicted, SqliteDatabase db) {
        String level = ex.hardness() == null ? null : ex.hardness().label();
        String error = null;
        boolean correct = false;
        try {
            QueryResult pred = db.queryUntrusted(predicted);
            correct = ResultMatch.same(gold, pred, ordersRows(ex.query()));
            if (!correct) {
                error = "mismatch: " + pred.rows().size() + " rows x " + pred.columns().size() + " columns, gold "
                        + gold.rows().size() + " x " + gold.columns().size();
            }
        } catch (SqlExecutionException e) {
            error = e.kind().name().toLowerCase(Locale.ROOT) + ": " + e.getMessage();
        }
        return new ScoreItem(ex.index(), ex.dbId(), ex.question(), ex.query(), predicted, correct, null, level, error);
    }

    /** Whether the gold query's row order counts: it has ORDER BY (outside strings), as in Spider's test-suite evaluation. */
    static boolean ordersRows(String goldSql) {
        return SqlText.withoutStringLiterals(goldSql).toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").contains("order by");
    }
}
