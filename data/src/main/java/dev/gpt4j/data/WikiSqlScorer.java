package dev.gpt4j.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * WikiSQL logical-form accuracy with the official semantics: a prediction (SQL text) is read back into a
 * logical form ({@link LogicalForm#parse}) and is correct when it has the same select column, the same
 * aggregate and the same set of conditions (values compared lower-case). Also per part: select, agg, where.
 * A prediction that cannot be read back is wrong in every part.
 */
public final class WikiSqlScorer {
    private WikiSqlScorer() {}

    public static ScoreReport score(String split, List<WikiSqlExample> examples, Map<String, WikiSqlTable> tables,
                                    List<String> predictions, List<String> skipped) {
        if (examples.size() != predictions.size()) {
            throw new IllegalArgumentException(examples.size() + " examples but " + predictions.size() + " predictions");
        }
        long t0 = System.nanoTime();
        List<ScoreItem> items = new ArrayList<>(examples.size());
        for (int i = 0; i < examples.size(); i++) {
            WikiSqlExample ex = examples.get(i);
            WikiSqlTable table = tables.get(ex.tableId());
            String goldSql = ex.sql().toSql(table);
            String predicted = predictions.get(i);
            Map<String, Boolean> parts = new LinkedHashMap<>();
            String error = null;
            boolean correct;
            try {
                LogicalForm p = LogicalForm.parse(predicted, table);
                parts.put("select", p.sel() == ex.sql().sel());
                parts.put("agg", p.agg() == ex.sql().agg());
                parts.put("where", p.sameConditions(ex.sql()));
                correct = p.matches(ex.sql());
                if (!correct) {
                    error = "mismatch: " + p;
                }
            } catch (IllegalArgumentException e) {
                parts.put("select", false);
                parts.put("agg", false);
                parts.put("where", false);
                correct = false;
                error = "parse: " + e.getMessage();
            }
            items.add(new ScoreItem(ex.index(), ex.tableId(), ex.question(), goldSql, predicted, correct, parts, null, error));
        }
        return new ScoreReport("wikisql", split, "logical-form accuracy", items, skipped, System.nanoTime() - t0);
    }

    /** The gold SQL of every example (for writing a gold predictions file). */
    public static List<String> goldSql(List<WikiSqlExample> examples, Map<String, WikiSqlTable> tables) {
        List<String> out = new ArrayList<>(examples.size());
        for (WikiSqlExample ex : examples) {
            out.add(ex.sql().toSql(tables.get(ex.tableId())));
        }
        return out;
    }
}
