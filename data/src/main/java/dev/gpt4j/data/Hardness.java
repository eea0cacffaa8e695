package dev.gpt4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Spider's hardness levels, computed from the parsed {@code sql} field of Spider's JSON files by the rules
 * published with Spider's evaluation (Yu et al. 2018, evaluation.py {@code eval_hardness}):
 * component-1 count (WHERE, GROUP BY, ORDER BY, LIMIT, each extra FROM table, each OR, each LIKE), component-2
 * count (nested queries and INTERSECT / UNION / EXCEPT) and an "others" count (more than one aggregate, more
 * than one select column, more than one WHERE condition, more than one GROUP BY column).
 *
 * <p>The aggregate count follows the published code exactly, quirks included: in WHERE it counts conditions
 * whose NOT flag is set, and in HAVING it counts the {@code and}/{@code or} connectives; that is how the levels
 * of published results were computed, so it is reproduced rather than "fixed".
 */
public enum Hardness {
    EASY, MEDIUM, HARD, EXTRA;

    private static final int LIKE = 9; // index of 'like' in Spider's WHERE_OPS

    /** The level of a parsed Spider query ({@code sql} field of dev.json / train_spider.json). */
    public static Hardness of(JsonNode sql) {
        int c1 = component1(sql);
        int c2 = nested(sql).size();
        int others = others(sql);
        if (c1 <= 1 && others == 0 && c2 == 0) {
            return EASY;
        }
        if ((others <= 2 && c1 <= 1 && c2 == 0) || (c1 <= 2 && others < 2 && c2 == 0)) {
            return MEDIUM;
        }
        if ((others > 2 && c1 <= 2 && c2 == 0) || (c1 > 2 && c1 <= 3 && others <= 2 && c2 == 0)
                || (c1 <= 1 && others == 0 && c2 <= 1)) {
            return HARD;
        }
        return EXTRA;
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    private static int component1(JsonNode sql) {
        int count = 0;
        if (sql.get("where").size() > 0) {
            count++;
        }
        if (sql.get("groupBy").size() > 0) {
            count++;
        }
        if (sql.get("orderBy").size() > 0) {
            count++;
        }
        if (!sql.get("limit").isNull()) {
            count++;
        }
        int tableUnits = sql.get("from").get("table_units").size();
        if (tableUnits > 0) {
            count += tableUnits - 1;
        }
        for (JsonNode list : condLists(sql)) {
            for (int i = 1; i < list.size(); i += 2) {
                if ("or".equals(list.get(i).asText())) {
                    count++;
                }
            }
            for (int i = 0; i < list.size(); i += 2) {
                if (list.get(i).get(1).asInt() == LIKE) {
                    count++;
                }
            }
        }
        return count;
    }

    private static List<JsonNode> condLists(JsonNode sql) {
        return List.of(sql.get("from").get("conds"), sql.get("where"), sql.get("having"));
    }

    private static List<JsonNode> nested(JsonNode sql) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode list : condLists(sql)) {
            for (int i = 0; i < list.size(); i += 2) {
                JsonNode cond = list.get(i);
                if (cond.get(3).isObject()) {
                    out.add(cond.get(3));
                }
                if (cond.get(4).isObject()) {
                    out.add(cond.get(4));
                }
            }
        }
        for (String k : new String[] {"intersect", "except", "union"}) {
            if (!sql.get(k).isNull()) {
                out.add(sql.get(k));
            }
        }
        return out;
    }

    /** Spider's has_agg: the first element of the unit is not 0 (for strings: always true). */
    private static boolean hasAgg(JsonNode unit) {
        JsonNode first = unit.isArray() ? unit.get(0) : unit.isTextual() ? unit : null;
        if (first == null) {
            return false;
        }
        if (first.isTextual()) {
            return true; // Python: 'a' != 0
        }
        if (first.isBoolean()) {
            return first.asBoolean();
        }
        return first.asInt() != 0;
    }

    private static int others(JsonNode sql) {
        int agg = 0;
        JsonNode selectUnits = sql.get("select").get(1);
        for (JsonNode u : selectUnits) {
            agg += hasAgg(u) ? 1 : 0;
        }
        JsonNode where = sql.get("where");
        for (int i = 0; i < where.size(); i += 2) {
            agg += hasAgg(where.get(i)) ? 1 : 0;
        }
        for (JsonNode u : sql.get("groupBy")) {
            agg += hasAgg(u) ? 1 : 0;
        }
        JsonNode orderBy = sql.get("orderBy");
        if (orderBy.size() > 0) {
            for (JsonNode vu : orderBy.get(1)) {
                if (isTruthy(vu.get(1))) {
                    agg += hasAgg(vu.get(1)) ? 1 : 0;
                }
            }
            for (JsonNode vu : orderBy.get(1)) {
                if (isTruthy(vu.get(2))) {
                    agg += hasAgg(vu.get(2)) ? 1 : 0;
                }
            }
        }
        for (JsonNode u : sql.get("having")) {
            agg += hasAgg(u) ? 1 : 0;
        }
        int count = 0;
        if (agg > 1) {
            count++;
        }
        if (selectUnits.size() > 1) {
            count++;
        }
        if (where.size() > 1) {
            count++;
        }
        if (sql.get("groupBy").size() > 1) {
            count++;
        }
        return count;
    }

    private static boolean isTruthy(JsonNode n) {
        return n != null && !n.isNull() && !(n.isArray() && n.size() == 0);
    }
}
