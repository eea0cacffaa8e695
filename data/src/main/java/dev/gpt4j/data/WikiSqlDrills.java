package dev.gpt4j.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Drills for a WikiSQL table from its header alone, in WikiSQL's grammar and SQL rendering ({@link LogicalForm#toSql}:
 * {@code SELECT MAX("Points") FROM table_1_2 WHERE "Team" = 'Alpha' AND "Year" > 2000}): one selected column with an
 * optional aggregate, up to two conditions with {@code =}, {@code >} or {@code <}, in the phrasings of WikiSQL's
 * questions ("What is the X when Y is V?", "Name the most X for Y V", "How many X have Y V?"). The tables here have no
 * rows, so the values are made up (numbers for columns whose names say they count or date something, names otherwise):
 * what the drills teach is which column a question's words point to. Nothing is run, so nothing is dropped but
 * questions written twice.
 *
 * <p>The same {@link DatabaseDrills.Options} and {@link DatabaseDrills.Report} as {@link DatabaseDrills} (its
 * {@code rowsPerTable} is unused).
 */
public final class WikiSqlDrills {
    private WikiSqlDrills() {}

    /** Header words that say a column holds numbers. */
    private static final Pattern NUMERIC = Pattern.compile(
            "(?i).*\\b(no\\.?|#|number|num|year|years|season|rank|ranking|points|pts|goals|total|attendance|pick|round|population|wins|losses|"
                    + "draws|games|played|score|age|height|weight|votes|week|lost|won|tries|caps|apps|laps|grid|position|pos|episode|series|"
                    + "area|density|capacity|km|miles|%|percentage|gdp|rating|viewers|share|overall)\\b.*");

    public static DatabaseDrills.Result generate(String group, Schema schema, DatabaseDrills.Options o) {
        if (schema.tables().size() != 1) throw new IllegalArgumentException("a WikiSQL schema has one table, not " + schema.tables().size());
        Table t = schema.tables().get(0);
        if (t.columns().isEmpty()) throw new IllegalArgumentException("table " + t.name() + " has no columns");
        Random rnd = new Random(DatabaseDrills.seed(group + "/wikisql/" + o.seed()));
        List<Column> cols = t.columns();
        List<DatabaseDrills.Drill> out = new ArrayList<>();
        Writer w = new Writer(t, o, rnd, out);
        // every column is selected; each with a few condition columns
        List<Column> sels = new ArrayList<>(cols);
        Collections.shuffle(sels, rnd);
        for (Column sel : sels) {
            List<Column> conds = new ArrayList<>(cols);
            conds.remove(sel);
            Collections.shuffle(conds, rnd);
            for (Column c : conds.subList(0, Math.min(3, conds.size()))) {
                w.one(sel, c);
            }
            if (conds.size() >= 2) w.two(sel, conds.get(0), conds.get(1));
        }
        Map<String, Integer> kept = new TreeMap<>(), dropped = new TreeMap<>(), droppedBy = new TreeMap<>();
        Set<String> held = new HashSet<>();
        for (String q : o.heldOut()) held.add(DatabaseDrills.normalizeQuestion(q));
        Set<String> seen = new HashSet<>();
        List<TextToSqlExample> ex = new ArrayList<>();
        for (DatabaseDrills.Drill d : out) {
            String nq = DatabaseDrills.normalizeQuestion(d.question());
            String why = held.contains(nq) ? "held-out" : !seen.add(nq) ? "duplicate" : !SqlGuard.parses(d.sql()) ? "unparseable" : null;
            if (why != null) {
                dropped.merge(d.template(), 1, Integer::sum);
                droppedBy.merge(why, 1, Integer::sum);
                continue;
            }
            if (ex.size() >= o.maxDrills()) {
                dropped.merge(d.template(), 1, Integer::sum);
                droppedBy.merge("over-limit", 1, Integer::sum);
                continue;
            }
            kept.merge(d.template(), 1, Integer::sum);
            ex.add(new TextToSqlExample(DatabaseDrills.SOURCE, group, schema, d.question(), d.sql()));
        }
        for (String k : dropped.keySet()) kept.putIfAbsent(k, 0);
        return new DatabaseDrills.Result(ex, new DatabaseDrills.Report(kept, dropped, droppedBy, 0, List.of(), "synthetic"));
    }

    /** Whether a header says its column holds numbers. */
    static boolean numeric(Column c) {
        return NUMERIC.matcher(c.name()).matches();
    }

    private static final class Writer {
        final Table t;
        final DatabaseDrills.Options o;
        final Random rnd;
        final List<DatabaseDrills.Drill> out;

        Writer(Table t, DatabaseDrills.Options o, Random rnd, List<DatabaseDrills.Drill> out) {
            this.t = t;
            this.o = o;
            this.rnd = rnd;
            this.out = out;
        }

        String pick(String... xs) {
            return xs[rnd.nextInt(xs.length)];
        }

        void emit(String template, String sql, String... phrasings) {
            List<String> ps = new ArrayList<>(new LinkedHashSet<>(List.of(phrasings)));
            Collections.shuffle(ps, rnd);
            for (String p : ps.subList(0, Math.min(o.phrasings(), ps.size()))) {
                String q = p.strip().replaceAll("\\s+", " ");
                out.add(new DatabaseDrills.Drill(template, Character.toUpperCase(q.charAt(0)) + q.substring(1), sql, DatabaseDrills.Expect.ANY));
            }
        }

        static String w(Column c) {
            return c.name().strip().toLowerCase(Locale.ROOT);
        }

        static String q(Column c) {
            return Identifiers.quote(c.name());
        }

        /** A made-up value for a condition on c: its text for the question and its SQL literal. */
        String[] value(Column c) {
            if (numeric(c)) {
                String lw = w(c);
                long v = lw.contains("year") || lw.contains("season") ? 1950 + rnd.nextInt(70) : 1 + rnd.nextInt(rnd.nextBoolean() ? 30 : 2000);
                return new String[] {Long.toString(v), Identifiers.stringLiteral(Long.toString(v)), Long.toString(v)};
            }
            String v = DatabaseDrills.SYNTHETIC.get(rnd.nextInt(DatabaseDrills.SYNTHETIC.size()));
            if (rnd.nextInt(4) == 0) v = v + " " + DatabaseDrills.SYNTHETIC.get(rnd.nextInt(DatabaseDrills.SYNTHETIC.size()));
            return new String[] {v, Identifiers.stringLiteral(v), null};
        }

        String from() {
            return " FROM " + t.name();
        }

        /** The selected column alone, then with an aggregate, under one condition. */
        void one(Column sel, Column c) {
            String s = w(sel), cw = w(c);
            String[] v = value(c);
            String where = " WHERE " + q(c) + " = " + v[1];
            emit("wikisql-select", "SELECT " + q(sel) + from() + where,
                    "What is the " + s + " when the " + cw + " is " + v[0] + "?", "What " + s + " has " + a(cw) + " " + cw + " of " + v[0] + "?",
                    "Name the " + s + " for " + cw + " of " + v[0], "Tell me the " + s + " for " + cw + " " + v[0], "What was the " + s + " when " + cw + " was " + v[0] + "?",
                    "Which " + s + " has " + cw + " " + v[0] + "?", "What is the " + s + " with " + cw + " " + v[0] + "?", "Name the " + s + " when " + cw + " is " + v[0]);
            String[] agg = switch (rnd.nextInt(5)) {
                case 0 -> new String[] {"COUNT", "How many " + s + " have " + cw + " " + v[0] + "?", "What is the total number of " + s + " when " + cw + " is " + v[0] + "?",
                        "Name the number of " + s + " for " + cw + " " + v[0], "How many " + s + " are there for " + cw + " " + v[0] + "?"};
                case 1 -> new String[] {"MAX", "What is the highest " + s + " when " + cw + " is " + v[0] + "?", "Name the most " + s + " for " + cw + " " + v[0],
                        "What is the largest " + s + " with " + cw + " of " + v[0] + "?", "What is the maximum " + s + " when the " + cw + " is " + v[0] + "?"};
                case 2 -> new String[] {"MIN", "What is the lowest " + s + " when " + cw + " is " + v[0] + "?", "Name the least " + s + " for " + cw + " " + v[0],
                        "What is the smallest " + s + " with " + cw + " of " + v[0] + "?", "What is the minimum " + s + " when the " + cw + " is " + v[0] + "?"};
                case 3 -> new String[] {"SUM", "What is the total " + s + " when " + cw + " is " + v[0] + "?", "What is the sum of " + s + " for " + cw + " " + v[0] + "?",
                        "How many " + s + " in total have " + cw + " of " + v[0] + "?"};
                default -> new String[] {"AVG", "What is the average " + s + " when " + cw + " is " + v[0] + "?", "Name the average " + s + " for " + cw + " " + v[0],
                        "What is the mean " + s + " with " + cw + " of " + v[0] + "?"};
            };
            emit("wikisql-aggregate", "SELECT " + agg[0] + "(" + q(sel) + ")" + from() + where, java.util.Arrays.copyOfRange(agg, 1, agg.length));
            if (v[2] != null && rnd.nextInt(3) == 0) {
                boolean gt = rnd.nextBoolean();
                String op = gt ? ">" : "<";
                String ow = gt ? pick("greater than", "larger than", "more than", "over") : pick("less than", "smaller than", "fewer than", "under");
                emit("wikisql-compare", "SELECT " + q(sel) + from() + " WHERE " + q(c) + " " + op + " " + v[2],
                        "What is the " + s + " when the " + cw + " is " + ow + " " + v[0] + "?", "Name the " + s + " with " + cw + " " + ow + " " + v[0],
                        "Which " + s + " has " + a(cw) + " " + cw + " " + ow + " " + v[0] + "?");
            }
        }

        /** Two conditions. */
        void two(Column sel, Column c, Column d) {
            String s = w(sel), cw = w(c), dw = w(d);
            String[] v = value(c), u = value(d);
            emit("wikisql-two-conditions", "SELECT " + q(sel) + from() + " WHERE " + q(c) + " = " + v[1] + " AND " + q(d) + " = " + u[1],
                    "What is the " + s + " when " + cw + " is " + v[0] + " and " + dw + " is " + u[0] + "?",
                    "Which " + s + " has " + a(cw) + " " + cw + " of " + v[0] + " and " + a(dw) + " " + dw + " of " + u[0] + "?",
                    "Name the " + s + " for " + cw + " " + v[0] + " and " + dw + " " + u[0],
                    "Tell me the " + s + " with " + cw + " " + v[0] + " and " + dw + " " + u[0]);
        }

        static String a(String word) {
            return DatabaseDrills.a(word);
        }
    }
}
