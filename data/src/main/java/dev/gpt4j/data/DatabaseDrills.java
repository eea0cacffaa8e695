package dev.gpt4j.data;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32;

/**
 * Drills for <b>any</b> database: synthetic question/SQL pairs written from templates over one schema and, when the
 * database is given, values sampled from its rows, in Spider's SQL style (upper-case keywords, lower-case functions,
 * T1/T2 aliases, double-quoted strings), which the shipped model was fine-tuned on. They are what {@code gpt4j adapt}
 * learns a database from.
 *
 * <p>Where {@link SchemaDrills} (kept as it is: the trainer's {@code drills}/{@code drills2} datasets are made with it)
 * writes one phrasing of a few intents for Spider's training databases, these cover the shapes of real questions:
 * counts, columns, DISTINCT and counts of distinct values, aggregates, grouping ("X by Y", "for each Y", "per Y"),
 * ordering and superlatives, comparisons and ranges with real values, text conditions, LIKE, two conditions, HAVING,
 * nesting (above the average, NOT IN), set operations, dates and years, joins along foreign keys and along columns
 * whose names say they are keys when no FOREIGN KEY is declared, three-table joins through a linking table; each
 * intent in several phrasings (singular and plural, identifiers split into words).
 *
 * <p>With a database, every drill's SQL is run (read-only, through the caller's connection and its time-out): a drill
 * that fails, times out, or finds nothing where its question implies a result is dropped, and the drops are counted by
 * template and by reason ({@link Report}). Rows are only ever sampled with a bound ({@link RowSample}), so a database
 * too large to scan still gives drills (the drills' own queries are bounded by the time-out). Without a database,
 * value conditions use made-up values ({@link Options#syntheticValues()}) or are left out.
 *
 * <p>Deterministic: the same schema, rows and options give the same drills.
 */
public final class DatabaseDrills {
    /** The {@link TextToSqlExample#source()} of these drills. */
    public static final String SOURCE = "adapt";

    /** What a drill's result must be for the drill to be kept. */
    public enum Expect {
        /** Runs without an error (a question whose true answer may be "none", e.g. NOT IN). */
        ANY,
        /** At least one row with a non-null value. */
        ROWS,
        /** The first value is a number above zero (a count of rows that meet conditions taken from the rows). */
        POSITIVE
    }

    /** One drill before it is checked: the template it comes from, the question, the SQL, and what it must return. */
    public record Drill(String template, String question, String sql, Expect expect) {}

    /**
     * @param seed            varies the choices (columns, values, phrasings) for the same schema
     * @param phrasings       phrasings written per intent (each a different wording of the same SQL)
     * @param rowsPerTable    the bound on the rows read from each table
     * @param syntheticValues without a database, write value conditions with made-up values instead of leaving them out
     * @param heldOut         questions never to write (compared ignoring case, punctuation and the words me, the, a, an,
     *                        please): for keeping an evaluation question out of the training data
     * @param maxDrills       at most this many drills (a seeded choice among them, every template kept in proportion)
     */
    public record Options(long seed, int phrasings, int rowsPerTable, boolean syntheticValues, Set<String> heldOut, int maxDrills) {
        public Options {
            if (phrasings < 1) throw new IllegalArgumentException("phrasings must be at least 1, not " + phrasings);
            if (rowsPerTable < 1) throw new IllegalArgumentException("rowsPerTable must be at least 1, not " + rowsPerTable);
            if (maxDrills < 1) throw new IllegalArgumentException("maxDrills must be at least 1, not " + maxDrills);
            heldOut = Set.copyOf(heldOut);
        }

        public static Options defaults() {
            return new Options(1, 2, 200, true, Set.of(), 4000);
        }

        public Options withSeed(long s) {
            return new Options(s, phrasings, rowsPerTable, syntheticValues, heldOut, maxDrills);
        }

        public Options withPhrasings(int p) {
            return new Options(seed, p, rowsPerTable, syntheticValues, heldOut, maxDrills);
        }

        public Options withRowsPerTable(int r) {
            return new Options(seed, phrasings, r, syntheticValues, heldOut, maxDrills);
        }

        public Options withSyntheticValues(boolean s) {
            return new Options(seed, phrasings, rowsPerTable, s, heldOut, maxDrills);
        }

        public Options withHeldOut(Set<String> questions) {
            return new Options(seed, phrasings, rowsPerTable, syntheticValues, questions, maxDrills);
        }

        public Options withMaxDrills(int m) {
            return new Options(seed, phrasings, rowsPerTable, syntheticValues, heldOut, m);
        }
    }

    /**
     * What was written and what was dropped.
     *
     * @param kept         drills kept, by template
     * @param dropped      drills dropped, by template
     * @param droppedBy    drills dropped, by reason: {@code error} (SQLite refused the SQL), {@code timeout}, {@code empty}
     *                     (no result where one was implied), {@code unparseable}, {@code held-out}, {@code duplicate}
     *                     (a question already written with other SQL), {@code over-limit}
     * @param rowsRead     rows read from the database in all (each table's at most {@link Options#rowsPerTable()})
     * @param inferredKeys joins taken from column names (no FOREIGN KEY declared), as {@code table.column -> table.column}
     * @param values       where condition values came from: {@code database}, {@code synthetic} or {@code none}
     */
    public record Report(Map<String, Integer> kept, Map<String, Integer> dropped, Map<String, Integer> droppedBy, long rowsRead,
                         List<String> inferredKeys, String values) {
        public int keptTotal() {
            return kept.values().stream().mapToInt(Integer::intValue).sum();
        }

        public int droppedTotal() {
            return dropped.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    public record Result(List<TextToSqlExample> drills, Report report) {}

    private DatabaseDrills() {}

    /**
     * The drills of a schema; {@code group} names it in each example. With {@code db} (may be null), values come from
     * its rows and every drill is checked on it.
     */
    public static Result generate(String group, Schema schema, SqliteDatabase db, Options o) {
        if (schema.tables().isEmpty()) throw new IllegalArgumentException("schema " + schema.name() + " has no tables");
        Random rnd = new Random(seed(group + "/" + o.seed()));
        String values = db != null ? "database" : o.syntheticValues() ? "synthetic" : "none";
        Model m = new Model(schema, db, o, rnd);
        Writer w = new Writer(m, o, rnd);
        w.writeAll();

        Map<String, Integer> kept = new TreeMap<>(), dropped = new TreeMap<>(), droppedBy = new TreeMap<>();
        Set<String> heldOut = new HashSet<>();
        for (String q : o.heldOut()) heldOut.add(normalizeQuestion(q));
        Map<String, String> firstSql = new HashMap<>();
        Set<String> pairs = new HashSet<>();
        Map<String, String> verdicts = new HashMap<>();
        List<Drill> ok = new ArrayList<>();
        for (Drill d : w.out) {
            if (!pairs.add(d.question() + "\n" + d.sql())) continue; // the same pair twice: one is enough, nothing lost
            String why;
            String nq = normalizeQuestion(d.question());
            if (heldOut.contains(nq)) why = "held-out";
            else if (firstSql.containsKey(nq) && !firstSql.get(nq).equals(d.sql())) why = "duplicate";
            else if (!SqlGuard.parses(d.sql())) why = "unparseable";
            else why = db == null ? null : verdicts.computeIfAbsent(d.sql() + "\n" + d.expect(), k -> check(db, d));
            if (why != null) {
                dropped.merge(d.template(), 1, Integer::sum);
                droppedBy.merge(why, 1, Integer::sum);
                continue;
            }
            firstSql.putIfAbsent(nq, d.sql());
            ok.add(d);
        }
        if (ok.size() > o.maxDrills()) {
            // a seeded choice, so that every template keeps its share
            List<Drill> shuffled = new ArrayList<>(ok);
            Collections.shuffle(shuffled, rnd);
            Set<Drill> keep = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            keep.addAll(shuffled.subList(0, o.maxDrills()));
            List<Drill> cut = new ArrayList<>();
            for (Drill d : ok) {
                if (keep.contains(d)) cut.add(d);
                else {
                    dropped.merge(d.template(), 1, Integer::sum);
                    droppedBy.merge("over-limit", 1, Integer::sum);
                }
            }
            ok = cut;
        }
        List<TextToSqlExample> out = new ArrayList<>(ok.size());
        for (Drill d : ok) {
            kept.merge(d.template(), 1, Integer::sum);
            out.add(new TextToSqlExample(SOURCE, group, schema, d.question(), d.sql()));
        }
        for (String t : dropped.keySet()) kept.putIfAbsent(t, 0);
        return new Result(out, new Report(kept, dropped, droppedBy, m.rowsRead, m.inferredKeys, values));
    }

    /** The reason a drill fails on the database, or null if it is kept. */
    private static String check(SqliteDatabase db, Drill d) {
        QueryResult r;
        try {
            // the first rows are enough to judge; a subquery keeps the drill's own LIMIT and ORDER BY as they are
            r = db.query("SELECT * FROM (" + d.sql() + ") LIMIT 3");
        } catch (SqlExecutionException e) {
            return e.kind() == SqlExecutionException.Kind.TIMEOUT ? "timeout" : "error";
        }
        return switch (d.expect()) {
            case ANY -> null;
            case ROWS -> r.rows().stream().anyMatch(row -> row.stream().anyMatch(v -> v != null)) ? null : "empty";
            case POSITIVE -> !r.rows().isEmpty() && r.rows().get(0).get(0) instanceof Number n && n.doubleValue() > 0 ? null : "empty";
        };
    }

    /** A question for comparisons: lower case, words only, without me/the/a/an/please. */
    public static String normalizeQuestion(String q) {
        List<String> words = new ArrayList<>();
        for (String w : q.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (w.isEmpty() || w.equals("me") || w.equals("the") || w.equals("a") || w.equals("an") || w.equals("please")) continue;
            words.add(w);
        }
        return String.join(" ", words);
    }

    static long seed(String s) {
        CRC32 crc = new CRC32();
        crc.update(s.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }

    // ------------------------------------------------------------------------------------------ the schema, read for drills

    /** A column as drills see it: its SQL name, its words, and what kind of value it holds. */
    static final class Col {
        final Tab tab;
        final Column column;
        final String sql, w, wp;
        boolean key, number, text, date, year, nameLike, place;
        List<Object> values = List.of();
        int nonNull;

        Col(Tab tab, Column column) {
            this.tab = tab;
            this.column = column;
            this.sql = Identifiers.quoteIfNeeded(column.name());
            this.w = SchemaDrills.words(column.name());
            this.wp = SchemaDrills.plural(w);
        }

        /** Distinct values are fewer than the rows: a column one would group by. */
        boolean repeats() {
            return !values.isEmpty() && values.size() < nonNull;
        }
    }

    /** A table as drills see it. */
    static final class Tab {
        final Table t;
        final String sql, w, p;
        final List<Col> cols = new ArrayList<>();
        RowSample sample;

        Tab(Table t) {
            this.t = t;
            this.sql = Identifiers.quoteIfNeeded(t.name());
            this.w = SchemaDrills.singular(SchemaDrills.words(t.name()));
            this.p = SchemaDrills.plural(w);
        }

        Col col(String name) {
            for (Col c : cols) if (c.column.name().equalsIgnoreCase(name)) return c;
            return null;
        }

        List<Col> plain() {
            return cols.stream().filter(c -> !c.key).toList();
        }

        List<Col> numbers() {
            return cols.stream().filter(c -> !c.key && c.number).toList();
        }

        List<Col> texts() {
            return cols.stream().filter(c -> !c.key && c.text && !c.date).toList();
        }

        /** Columns to group by: text (not a name) or a year, whose values repeat in the sample (or unknown without rows). */
        List<Col> groups(boolean haveRows) {
            return cols.stream().filter(c -> !c.key && !c.nameLike && (c.text && !c.date || c.year) && (!haveRows || c.repeats())).toList();
        }

        List<Col> names() {
            return cols.stream().filter(c -> !c.key && c.nameLike).toList();
        }

        List<Col> dates() {
            return cols.stream().filter(c -> !c.key && (c.date || c.year)).toList();
        }
    }

    /** {@code child.col} references {@code parent.key}: declared, or inferred from the names. */
    record Link(Tab child, Col fk, Tab parent, Col pk, boolean declared) {}

    /** The schema with its sampled values and its joins. */
    static final class Model {
        final Schema schema;
        final boolean haveRows;
        final List<Tab> tabs = new ArrayList<>();
        final List<Link> links = new ArrayList<>();
        final List<String> inferredKeys = new ArrayList<>();
        final Set<String> columnNames = new HashSet<>();
        long rowsRead;

        Model(Schema schema, SqliteDatabase db, Options o, Random rnd) {
            this.schema = schema;
            this.haveRows = db != null;
            for (Table t : schema.tables()) {
                for (Column c : t.columns()) columnNames.add(c.name().toLowerCase(Locale.ROOT));
            }
            Set<String> fkCols = new HashSet<>();
            for (ForeignKey fk : schema.foreignKeys()) fkCols.add((fk.table() + "." + fk.column()).toLowerCase(Locale.ROOT));
            for (Table t : schema.tables()) {
                if (t.columns().isEmpty()) continue;
                Tab tab = new Tab(t);
                if (db != null) {
                    tab.sample = RowSample.of(db, t, o.rowsPerTable(), rnd);
                    rowsRead += tab.sample.read();
                }
                for (Column c : t.columns()) {
                    Col col = new Col(tab, c);
                    String type = PromptFormat.trainingType(c.type());
                    col.key = isKeyLike(c.name()) || t.isPrimaryKey(c.name()) || fkCols.contains((t.name() + "." + c.name()).toLowerCase(Locale.ROOT));
                    if (tab.sample != null) {
                        col.values = tab.sample.values(c.name());
                        col.nonNull = tab.sample.nonNull(c.name());
                    }
                    boolean sampledNumbers = !col.values.isEmpty() && col.values.stream().allMatch(v -> v instanceof Number);
                    boolean sampledText = !col.values.isEmpty() && col.values.stream().allMatch(v -> v instanceof String);
                    col.number = type.equals("number") || type.equals("real") ? col.values.isEmpty() || sampledNumbers : type.isEmpty() && sampledNumbers;
                    col.text = type.equals("text") || type.equals("time") || type.isEmpty() && sampledText || type.equals("others") && sampledText;
                    if (col.number && col.text) col.text = false;
                    String lw = col.w;
                    col.date = !col.number && (type.equals("time") || lw.contains("date") || lw.endsWith(" time"));
                    col.year = col.number && (lw.equals("year") || lw.endsWith(" year") || lw.startsWith("year "));
                    col.nameLike = col.text && (lw.equals("name") || lw.endsWith(" name") || lw.equals("title") || lw.endsWith(" title"));
                    col.place = col.text && PLACE.matcher(lw).matches();
                    tab.cols.add(col);
                }
                tabs.add(tab);
            }
            for (ForeignKey fk : schema.foreignKeys()) {
                Tab c = tab(fk.table()), p = tab(fk.refTable());
                if (c == null || p == null || c == p) continue;
                Col f = c.col(fk.column()), k = p.col(fk.refColumn());
                if (f != null && k != null) links.add(new Link(c, f, p, k, true));
            }
            inferLinks();
        }

        Tab tab(String name) {
            for (Tab t : tabs) if (t.t.name().equalsIgnoreCase(name)) return t;
            return null;
        }

        /**
         * Joins that no FOREIGN KEY declares but the names imply: a key-like column of one table ({@code department_id},
         * {@code DeptId}) with the same name as another table's single primary key, or named after another table plus
         * {@code _id} where that table's key is {@code id}.
         */
        private void inferLinks() {
            Set<String> have = new HashSet<>();
            for (Link l : links) have.add((l.child().t.name() + "." + l.fk().column.name()).toLowerCase(Locale.ROOT));
            for (Tab c : tabs) {
                for (Col f : c.cols) {
                    if (!isKeyLike(f.column.name()) || have.contains((c.t.name() + "." + f.column.name()).toLowerCase(Locale.ROOT))) continue;
                    if (c.t.isPrimaryKey(f.column.name()) && c.t.primaryKey().size() == 1) continue; // its own key
                    for (Tab p : tabs) {
                        if (p == c || p.t.primaryKey().size() != 1) continue;
                        String pk = p.t.primaryKey().get(0);
                        String fn = f.column.name().toLowerCase(Locale.ROOT), pn = pk.toLowerCase(Locale.ROOT);
                        String tableKey = p.t.name().toLowerCase(Locale.ROOT) + "_id";
                        boolean same = fn.equals(pn) && !pn.equals("id");
                        boolean named = pn.equals("id") && (fn.equals(tableKey) || fn.equals(SchemaDrills.singular(p.t.name().toLowerCase(Locale.ROOT)) + "_id"));
                        if (same || named) {
                            Col k = p.col(pk);
                            links.add(new Link(c, f, p, k, false));
                            f.key = true;
                            inferredKeys.add(c.t.name() + "." + f.column.name() + " -> " + p.t.name() + "." + pk);
                            break;
                        }
                    }
                }
            }
        }

        List<Link> linksFrom(Tab t) {
            return links.stream().filter(l -> l.child() == t).toList();
        }
    }

    /** Column words that say a column holds places: questions say "in X", "from X". */
    static final java.util.regex.Pattern PLACE = java.util.regex.Pattern.compile(
            ".*\\b(location|city|country|nationality|state|place|address|region|town|hometown|venue|district|county|continent|area)\\b.*");

    static boolean isKeyLike(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.equals("id") || n.endsWith("_id") || n.endsWith("id") && name.length() > 2 && Character.isUpperCase(name.charAt(name.length() - 2));
    }

    // ------------------------------------------------------------------------------------------ the templates

    /** Writes the drills of every template over the model. */
    static final class Writer {
        final Model m;
        final Options o;
        final Random rnd;
        final List<Drill> out = new ArrayList<>();

        Writer(Model m, Options o, Random rnd) {
            this.m = m;
            this.o = o;
            this.rnd = rnd;
        }

        /** Up to {@link Options#phrasings()} different phrasings of one intent, each with the same SQL. */
        void emit(String template, Expect e, String sql, String... phrasings) {
            List<String> ps = new ArrayList<>(new LinkedHashSet<>(List.of(phrasings)));
            Collections.shuffle(ps, rnd);
            for (String p : ps.subList(0, Math.min(o.phrasings(), ps.size()))) {
                String q = p.strip().replaceAll("\\s+", " ");
                q = Character.toUpperCase(q.charAt(0)) + q.substring(1);
                out.add(new Drill(template, q, sql, e));
            }
        }

        <T> T pick(List<T> xs) {
            return xs.get(rnd.nextInt(xs.size()));
        }

        /** Up to n of xs, in a seeded order. */
        <T> List<T> some(List<T> xs, int n) {
            List<T> c = new ArrayList<>(xs);
            Collections.shuffle(c, rnd);
            return c.subList(0, Math.min(n, c.size()));
        }

        void writeAll() {
            for (Tab t : m.tabs) {
                table(t);
                values(t);
            }
            for (Link l : m.links) link(l);
            bridges();
        }

        // ---- one table, no values

        void table(Tab t) {
            String tn = t.sql, tw = t.w, tp = t.p;
            emit("count", Expect.ANY, "SELECT count(*) FROM " + tn,
                    "How many " + tp + " are there?", "Count the number of " + tp + ".", "What is the total number of " + tp + "?",
                    "How many " + tp + " do we have?", "Find the number of " + tp + ".", "Return the number of " + tp + ".",
                    "What is the number of " + tp + "?", "Tell me how many " + tp + " there are.");
            emit("star", Expect.ANY, "SELECT * FROM " + tn,
                    "Show all information about " + tp + ".", "List all the details of the " + tp + ".", "Show everything about each " + tw + ".");
            List<Col> plain = t.plain();
            for (Col c : some(plain, 4)) {
                emit("column", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn,
                        "List the " + c.w + " of all " + tp + ".", "What are the " + c.wp + " of the " + tp + "?", "Show the " + c.w + " of each " + tw + ".",
                        "Give me the " + c.w + " of every " + tw + ".", "Find the " + c.w + " of all " + tp + ".", "Return the " + c.wp + " of " + tp + ".",
                        "What is the " + c.w + " of each " + tw + "?", "List all " + tw + " " + c.wp + ".");
            }
            if (plain.size() >= 2) {
                for (int k = 0; k < 2; k++) {
                    List<Col> two = some(plain, 2);
                    Col c = two.get(0), d = two.get(1);
                    emit("columns", Expect.ROWS, "SELECT " + c.sql + " , " + d.sql + " FROM " + tn,
                            "Show the " + c.w + " and " + d.w + " of all " + tp + ".", "What are the " + c.w + " and " + d.w + " of each " + tw + "?",
                            "List the " + c.wp + " and " + d.wp + " of the " + tp + ".", "Give the " + c.w + " and the " + d.w + " of every " + tw + ".",
                            "For each " + tw + ", show its " + c.w + " and " + d.w + ".");
                }
            }
            for (Col c : some(t.texts(), 2)) {
                emit("distinct", Expect.ROWS, "SELECT DISTINCT " + c.sql + " FROM " + tn,
                        "What are the distinct " + c.wp + " of " + tp + "?", "List the different " + c.wp + " of the " + tp + ".",
                        "Show all distinct " + c.wp + " of " + tp + ".", "Find the unique " + c.wp + " of all " + tp + ".",
                        "What are the different " + c.wp + "?", "List each " + c.w + " only once.");
                emit("count-distinct", Expect.ANY, "SELECT count(DISTINCT " + c.sql + ") FROM " + tn,
                        "How many different " + c.wp + " are there?", "How many distinct " + c.wp + " do the " + tp + " have?",
                        "Count the number of different " + c.wp + " among " + tp + ".", "What is the number of distinct " + c.wp + "?",
                        "Find the number of unique " + c.wp + " of the " + tp + ".");
            }
            for (Col x : some(t.numbers(), 3)) aggregates(t, x);
            List<Col> numbers = t.numbers();
            if (!numbers.isEmpty()) {
                Col x = pick(numbers);
                emit("aggregate-2", Expect.ROWS, "SELECT max(" + x.sql + ") , min(" + x.sql + ") FROM " + tn,
                        "What are the maximum and minimum " + x.w + " of " + tp + "?", "Show the highest and lowest " + x.w + " of all " + tp + ".",
                        "Find the largest and smallest " + x.w + " among the " + tp + ".");
                emit("aggregate-2", Expect.ROWS, "SELECT avg(" + x.sql + ") , max(" + x.sql + ") FROM " + tn,
                        "What are the average and maximum " + x.w + " of " + tp + "?", "Show the average and the highest " + x.w + " of all " + tp + ".");
            }
            for (Col g : some(t.groups(m.haveRows), 2)) groups(t, g);
            ordering(t);
        }

        void aggregates(Tab t, Col x) {
            String tn = t.sql, tp = t.p;
            if (!x.year) emit("aggregate", Expect.ROWS, "SELECT avg(" + x.sql + ") FROM " + tn,
                    "What is the average " + x.w + " of all " + tp + "?", "Find the average " + x.w + " of " + tp + ".",
                    "What is the mean " + x.w + " of the " + tp + "?", "Show the average " + x.w + " across all " + tp + ".",
                    "What is the average " + x.w + "?");
            emit("aggregate", Expect.ROWS, "SELECT max(" + x.sql + ") FROM " + tn,
                    "What is the maximum " + x.w + " of " + tp + "?", "What is the highest " + x.w + " among the " + tp + "?",
                    "Find the largest " + x.w + " of all " + tp + ".", "What is the maximum " + x.w + "?");
            emit("aggregate", Expect.ROWS, "SELECT min(" + x.sql + ") FROM " + tn,
                    "What is the minimum " + x.w + " of " + tp + "?", "What is the lowest " + x.w + " among the " + tp + "?",
                    "Find the smallest " + x.w + " of all " + tp + ".", "What is the minimum " + x.w + "?");
            if (!x.year) emit("aggregate", Expect.ROWS, "SELECT sum(" + x.sql + ") FROM " + tn,
                    "What is the total " + x.w + " of all " + tp + "?", "Find the sum of the " + x.wp + " of " + tp + ".",
                    "What is the total " + x.w + "?", "Add up the " + x.w + " of all " + tp + ".");
        }

        void groups(Tab t, Col g) {
            String tn = t.sql, tw = t.w, tp = t.p;
            emit("group-count", Expect.ROWS, "SELECT " + g.sql + " , count(*) FROM " + tn + " GROUP BY " + g.sql,
                    "How many " + tp + " are there for each " + g.w + "?", "Show the number of " + tp + " per " + g.w + ".",
                    "Count the " + tp + " by " + g.w + ".", "For each " + g.w + ", how many " + tp + " are there?",
                    "Show each " + g.w + " and the number of " + tp + " with it.", "What are the different " + g.wp + " and how many " + tp + " does each have?",
                    "Number of " + tp + " by " + g.w + ".");
            for (Col x : some(t.numbers().stream().filter(n -> !n.year).toList(), 2)) {
                if (x == g) continue;
                // the average always (the commonest ask), and one other aggregate
                List<String[]> aggs = List.of(new String[] {"avg", "average"},
                        pick(List.of(new String[] {"max", "maximum"}, new String[] {"min", "minimum"}, new String[] {"sum", "total"})));
                for (String[] a : aggs) {
                    emit("group-aggregate", Expect.ROWS, "SELECT " + g.sql + " , " + a[0] + "(" + x.sql + ") FROM " + tn + " GROUP BY " + g.sql,
                            "What is the " + a[1] + " " + x.w + " of " + tp + " for each " + g.w + "?", "Show the " + a[1] + " " + x.w + " by " + g.w + ".",
                            "Find the " + a[1] + " " + x.w + " per " + g.w + ".", "For each " + g.w + ", what is the " + a[1] + " " + x.w + "?",
                            "Show each " + g.w + " and the " + a[1] + " " + x.w + " of its " + tp + ".", "List the " + a[1] + " " + x.w + " of the " + tp + " in each " + g.w + ".");
                }
            }
            emit("group-top", Expect.ROWS, "SELECT " + g.sql + " FROM " + tn + " GROUP BY " + g.sql + " ORDER BY count(*) DESC LIMIT 1",
                    "Which " + g.w + " has the most " + tp + "?", "What is the most common " + g.w + " among the " + tp + "?",
                    "Which " + g.w + " is the most frequent?", "Find the " + g.w + " with the largest number of " + tp + ".");
            emit("group-top", Expect.ROWS, "SELECT " + g.sql + " FROM " + tn + " GROUP BY " + g.sql + " ORDER BY count(*) ASC LIMIT 1",
                    "Which " + g.w + " has the fewest " + tp + "?", "What is the least common " + g.w + " of the " + tp + "?",
                    "Find the " + g.w + " with the smallest number of " + tp + ".");
            emit("group-order", Expect.ROWS, "SELECT " + g.sql + " , count(*) FROM " + tn + " GROUP BY " + g.sql + " ORDER BY count(*) DESC",
                    "List each " + g.w + " and the number of " + tp + ", from the most to the fewest.",
                    "Show the " + g.wp + " and how many " + tp + " each has, sorted by the number of " + tp + " in descending order.");
            int k = 2 + rnd.nextInt(2);
            emit("having", Expect.ROWS, "SELECT " + g.sql + " FROM " + tn + " GROUP BY " + g.sql + " HAVING count(*) >= " + k,
                    "Which " + g.wp + " have at least " + k + " " + tp + "?", "Show the " + g.wp + " that have " + k + " or more " + tp + ".",
                    "Find the " + g.wp + " shared by at least " + k + " " + tp + ".", "List the " + g.wp + " with " + k + " or more " + tp + ".");
            emit("having", Expect.ROWS, "SELECT " + g.sql + " FROM " + tn + " GROUP BY " + g.sql + " HAVING count(*) > 1",
                    "Which " + g.wp + " have more than one " + tw + "?", "Show the " + g.wp + " that more than one " + tw + " has.",
                    "Find the " + g.wp + " that appear more than once.");
            List<Col> nums = t.numbers();
            if (!nums.isEmpty() && m.haveRows) {
                Col x = pick(nums);
                Object v = middle(x);
                if (v != null && x != g) {
                    emit("having", Expect.ROWS, "SELECT " + g.sql + " FROM " + tn + " GROUP BY " + g.sql + " HAVING avg(" + x.sql + ") > " + v,
                            "Which " + g.wp + " have an average " + x.w + " above " + v + "?",
                            "Find the " + g.wp + " whose " + tp + " have an average " + x.w + " greater than " + v + ".");
                }
            }
        }

        void ordering(Tab t) {
            String tn = t.sql, tw = t.w, tp = t.p;
            List<Col> plain = t.plain(), nums = t.numbers();
            if (plain.isEmpty()) return;
            for (Col x : some(nums, 2)) {
                Col c = pickOther(plain, x);
                if (c == null) continue;
                emit("order", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " ORDER BY " + x.sql + " DESC",
                        "List the " + c.w + " of all " + tp + " in descending order of " + x.w + ".",
                        "Show the " + c.wp + " of the " + tp + " sorted by " + x.w + " from highest to lowest.",
                        "What are the " + c.wp + " of the " + tp + ", ordered by " + x.w + " descending?",
                        "Sort the " + tp + " by " + x.w + " in decreasing order and show their " + c.wp + ".");
                emit("order", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " ORDER BY " + x.sql + " ASC",
                        "List the " + c.w + " of all " + tp + " ordered by " + x.w + ".", "Show the " + c.wp + " of " + tp + " in ascending order of " + x.w + ".",
                        "What are the " + c.wp + " of the " + tp + " sorted by " + x.w + " from lowest to highest?");
                emit("order", Expect.ROWS, "SELECT " + c.sql + " , " + x.sql + " FROM " + tn + " ORDER BY " + x.sql + " DESC",
                        "List the " + c.w + " and " + x.w + " of each " + tw + ", from the highest " + x.w + " to the lowest.",
                        "Show the " + c.wp + " and " + x.wp + " of all " + tp + " in descending order of " + x.w + ".");
                String hi = x.w.equals("age") ? "oldest" : x.year || x.date ? "most recent" : pick(List.of("highest", "largest", "greatest"));
                String lo = x.w.equals("age") ? "youngest" : x.year || x.date ? "earliest" : pick(List.of("lowest", "smallest", "least"));
                emit("superlative", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " ORDER BY " + x.sql + " DESC LIMIT 1",
                        "What is the " + c.w + " of the " + tw + " with the " + (x.w.equals("age") ? "highest" : hi) + " " + x.w + "?",
                        "Which " + tw + " has the " + pick(List.of("highest", "largest")) + " " + x.w + "? Give the " + c.w + ".",
                        "Find the " + c.w + " of the " + tw + " whose " + x.w + " is the highest.",
                        x.w.equals("age") ? "What is the " + c.w + " of the oldest " + tw + "?" : "Show the " + c.w + " of the " + tw + " with the " + hi + " " + x.w + ".");
                emit("superlative", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " ORDER BY " + x.sql + " ASC LIMIT 1",
                        "What is the " + c.w + " of the " + tw + " with the " + (x.w.equals("age") ? "lowest" : lo) + " " + x.w + "?",
                        "Which " + tw + " has the " + pick(List.of("lowest", "smallest")) + " " + x.w + "? Give the " + c.w + ".",
                        x.w.equals("age") ? "What is the " + c.w + " of the youngest " + tw + "?" : "Find the " + c.w + " of the " + tw + " whose " + x.w + " is the lowest.");
                int k = 2 + rnd.nextInt(4);
                emit("top-n", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " ORDER BY " + x.sql + " DESC LIMIT " + k,
                        "List the " + c.wp + " of the top " + k + " " + tp + " by " + x.w + ".",
                        "Show the " + c.w + " of the " + k + " " + tp + " with the highest " + x.w + ".",
                        "What are the " + c.wp + " of the " + k + " " + tp + " with the largest " + x.w + "?");
                emit("superlative", Expect.ROWS, "SELECT " + c.sql + " , " + x.sql + " FROM " + tn + " ORDER BY " + x.sql + " DESC LIMIT 1",
                        "Which " + tw + " has the highest " + x.w + "? List its " + c.w + " and " + x.w + ".",
                        "Show the " + c.w + " and " + x.w + " of the " + tw + " with the largest " + x.w + ".");
                {
                    emit("nested", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + x.sql + " > (SELECT avg(" + x.sql + ") FROM " + tn + ")",
                            "List the " + c.w + " of the " + tp + " whose " + x.w + " is above the average.",
                            "Which " + tp + " have a " + x.w + " higher than the average " + x.w + "? Give their " + c.wp + ".",
                            "Find the " + c.wp + " of " + tp + " with more than the average " + x.w + ".");
                    emit("nested", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + x.sql + " < (SELECT avg(" + x.sql + ") FROM " + tn + ")",
                            "List the " + c.w + " of the " + tp + " whose " + x.w + " is below the average.",
                            "Which " + tp + " have a " + x.w + " lower than the average? Show their " + c.wp + ".");
                }
            }
            Col s = t.names().isEmpty() ? null : pick(t.names());
            if (s != null) {
                emit("order", Expect.ROWS, "SELECT " + s.sql + " FROM " + tn + " ORDER BY " + s.sql,
                        "List the " + s.wp + " of all " + tp + " in alphabetical order.", "Show the " + s.wp + " of the " + tp + " sorted alphabetically.",
                        "What are the " + s.wp + " of the " + tp + ", ordered by " + s.w + "?");
            }
        }

        // ---- one table, with values

        void values(Tab t) {
            String tn = t.sql, tw = t.w, tp = t.p;
            List<Col> plain = t.plain();
            if (plain.isEmpty()) return;
            for (Col x : some(t.numbers(), 2)) {
                Col c = pickOther(plain, x);
                Object v = middle(x);
                if (v == null) continue;
                if (x.year) {
                    if (c != null) {
                        emit("year", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + x.sql + " > " + v,
                                "List the " + c.wp + " of the " + tp + " with " + x.w + " after " + v + ".", "Which " + tp + " have a " + x.w + " later than " + v + "? Show their " + c.wp + ".");
                        emit("year", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + x.sql + " < " + v,
                                "List the " + c.wp + " of the " + tp + " with " + x.w + " before " + v + ".", "Find the " + c.w + " of " + tp + " whose " + x.w + " is earlier than " + v + ".");
                    }
                    Object e = x.values.isEmpty() ? v : pick(x.values);
                    emit("year", Expect.POSITIVE, "SELECT count(*) FROM " + tn + " WHERE " + x.sql + " = " + num(e),
                            "How many " + tp + " have " + x.w + " " + num(e) + "?", "Count the " + tp + " whose " + x.w + " is " + num(e) + ".");
                }
                String gt = pick(List.of("greater than", "more than", "larger than", "above", "higher than", "over"));
                String lt = pick(List.of("less than", "smaller than", "below", "lower than", "under"));
                emit("compare-count", Expect.POSITIVE, "SELECT count(*) FROM " + tn + " WHERE " + x.sql + " > " + v,
                        "How many " + tp + " have " + a(x.w) + " " + x.w + " " + gt + " " + v + "?", "Count the " + tp + " whose " + x.w + " is " + gt + " " + v + ".",
                        "What is the number of " + tp + " with " + x.w + " " + gt + " " + v + "?");
                emit("compare-count", Expect.POSITIVE, "SELECT count(*) FROM " + tn + " WHERE " + x.sql + " < " + v,
                        "How many " + tp + " have " + a(x.w) + " " + x.w + " " + lt + " " + v + "?", "Count the " + tp + " whose " + x.w + " is " + lt + " " + v + ".");
                if (c != null) {
                    emit("compare", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + x.sql + " > " + v,
                            "Find the " + c.w + " of the " + tp + " whose " + x.w + " is " + gt + " " + v + ".",
                            "Which " + tp + " have " + a(x.w) + " " + x.w + " " + gt + " " + v + "? Give their " + c.wp + ".",
                            "List the " + c.wp + " of " + tp + " with " + x.w + " " + gt + " " + v + ".",
                            "Show the " + c.w + " of every " + tw + " with " + a(x.w) + " " + x.w + " " + gt + " " + v + ".");
                    emit("compare", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + x.sql + " < " + v,
                            "Find the " + c.w + " of the " + tp + " whose " + x.w + " is " + lt + " " + v + ".",
                            "Which " + tp + " have " + a(x.w) + " " + x.w + " " + lt + " " + v + "? Give their " + c.wp + ".",
                            "List the " + c.wp + " of " + tp + " with " + x.w + " " + lt + " " + v + ".");
                    emit("compare", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + x.sql + " >= " + v,
                            "Find the " + c.wp + " of the " + tp + " with " + a(x.w) + " " + x.w + " of at least " + v + ".",
                            "Which " + tp + " have " + a(x.w) + " " + x.w + " of " + v + " or more? List their " + c.wp + ".");
                    Object[] range = range(x);
                    if (range != null) {
                        emit("between", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + x.sql + " BETWEEN " + range[0] + " AND " + range[1],
                                "Find the " + c.w + " of the " + tp + " whose " + x.w + " is between " + range[0] + " and " + range[1] + ".",
                                "Which " + tp + " have " + a(x.w) + " " + x.w + " between " + range[0] + " and " + range[1] + "? Show their " + c.wp + ".",
                                "List the " + c.wp + " of " + tp + " with " + x.w + " from " + range[0] + " to " + range[1] + ".");
                    }
                }
            }
            for (Col d : some(t.texts(), 3)) {
                String v = text(d);
                if (v == null) continue;
                Col c = pickOther(plain, d);
                if (c != null) {
                    List<String> ps = new ArrayList<>(List.of("What is the " + c.w + " of the " + tw + " whose " + d.w + " is " + v + "?",
                            "Find the " + c.w + " of " + tp + " with " + d.w + " " + v + ".", "Show the " + c.w + " of the " + tp + " that have " + d.w + " \"" + v + "\".",
                            "What are the " + c.wp + " of the " + tp + " whose " + d.w + " is " + v + "?", "List the " + c.wp + " of all " + tp + " with " + d.w + " " + v + "."));
                    ps.add("Which " + tp + " have " + v + " as their " + d.w + "? Give their " + c.wp + ".");
                    ps.add("Show the " + c.wp + " of the " + tp + " where the " + d.w + " is " + v + ".");
                    if (d.nameLike) {
                        ps.add("What is the " + c.w + " of " + v + "?");
                        ps.add("What is the " + c.w + " of the " + tw + " named " + v + "?");
                        ps.add("Give me the " + c.w + " of " + v + ".");
                        ps.add("What is the " + c.w + " of the " + tw + " called " + v + "?");
                    }
                    if (d.place) {
                        ps.add("Which " + tp + " are located in " + v + "? Give their " + c.wp + ".");
                        ps.add("List the " + c.wp + " of the " + tp + " in " + v + ".");
                        ps.add("What are the " + c.wp + " of " + tp + " from " + v + "?");
                    }
                    emit("where-text", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + d.sql + " = \"" + v + "\"", ps.toArray(new String[0]));
                    emit("where-not", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + d.sql + " != \"" + v + "\"",
                            "Find the " + c.wp + " of the " + tp + " whose " + d.w + " is not " + v + ".", "Which " + tp + " do not have " + d.w + " " + v + "? Show their " + c.wp + ".");
                }
                List<String> cs = new ArrayList<>(List.of("How many " + tp + " have " + d.w + " " + v + "?", "Count the number of " + tp + " whose " + d.w + " is " + v + ".",
                        "How many " + tp + " are there with " + d.w + " \"" + v + "\"?", "Find the number of " + tp + " with " + d.w + " " + v + "."));
                if (d.place) {
                    cs.add("How many " + tp + " are in " + v + "?");
                    cs.add("How many " + tp + " are from " + v + "?");
                }
                emit("where-count", Expect.POSITIVE, "SELECT count(*) FROM " + tn + " WHERE " + d.sql + " = \"" + v + "\"", cs.toArray(new String[0]));
                for (Col x : some(t.numbers(), 1)) {
                    emit("where-aggregate", Expect.ROWS, "SELECT avg(" + x.sql + ") FROM " + tn + " WHERE " + d.sql + " = \"" + v + "\"",
                            "What is the average " + x.w + " of the " + tp + " whose " + d.w + " is " + v + "?",
                            "Find the average " + x.w + " of " + tp + " with " + d.w + " " + v + ".");
                    emit("where-aggregate", Expect.ROWS, "SELECT max(" + x.sql + ") FROM " + tn + " WHERE " + d.sql + " = \"" + v + "\"",
                            "What is the highest " + x.w + " of the " + tp + " with " + d.w + " " + v + "?",
                            "Find the maximum " + x.w + " among " + tp + " whose " + d.w + " is " + v + ".");
                    Object n = middle(x);
                    if (n != null) {
                        emit("two-conditions", Expect.POSITIVE, "SELECT count(*) FROM " + tn + " WHERE " + d.sql + " = \"" + v + "\" AND " + x.sql + " > " + n,
                                "How many " + tp + " have " + d.w + " " + v + " and " + a(x.w) + " " + x.w + " greater than " + n + "?",
                                "Count the " + tp + " whose " + d.w + " is " + v + " and whose " + x.w + " is above " + n + ".");
                        if (c != null && c != x) {
                            emit("two-conditions", Expect.ANY, "SELECT " + c.sql + " FROM " + tn + " WHERE " + d.sql + " = \"" + v + "\" OR " + x.sql + " > " + n,
                                    "Find the " + c.wp + " of the " + tp + " whose " + d.w + " is " + v + " or whose " + x.w + " is above " + n + ".");
                        }
                    }
                }
                String v2 = text(d);
                if (c != null && v2 != null && !v2.equals(v)) {
                    emit("two-conditions", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + d.sql + " = \"" + v + "\" OR " + d.sql + " = \"" + v2 + "\"",
                            "Find the " + c.wp + " of the " + tp + " whose " + d.w + " is either " + v + " or " + v2 + ".",
                            "Which " + tp + " have " + d.w + " " + v + " or " + v2 + "? List their " + c.wp + ".");
                }
                String sub = substring(v);
                if (c != null && sub != null) {
                    emit("like", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + d.sql + " LIKE \"%" + sub + "%\"",
                            "Find the " + c.wp + " of the " + tp + " whose " + d.w + " contains \"" + sub + "\".",
                            "Which " + tp + " have the word " + sub + " in their " + d.w + "? Show their " + c.wp + ".",
                            "List the " + c.w + " of " + tp + " with " + d.w + " containing " + sub + ".");
                }
                List<Col> gs = t.groups(m.haveRows).stream().filter(g -> g != d).toList();
                if (!gs.isEmpty()) {
                    Col g = pick(gs);
                    if (v2 != null && !v2.equals(v)) {
                        emit("set-operation", Expect.ANY, "SELECT " + g.sql + " FROM " + tn + " WHERE " + d.sql + " = \"" + v + "\" INTERSECT SELECT " + g.sql + " FROM "
                                        + tn + " WHERE " + d.sql + " = \"" + v2 + "\"",
                                "Which " + g.wp + " have both " + tp + " with " + d.w + " " + v + " and " + tp + " with " + d.w + " " + v2 + "?",
                                "Find the " + g.wp + " that have " + a(tw) + " " + tw + " whose " + d.w + " is " + v + " and also one whose " + d.w + " is " + v2 + ".");
                    }
                    emit("set-operation", Expect.ANY, "SELECT " + g.sql + " FROM " + tn + " EXCEPT SELECT " + g.sql + " FROM " + tn + " WHERE " + d.sql + " = \"" + v + "\"",
                            "Which " + g.wp + " have no " + tw + " with " + d.w + " " + v + "?",
                            "Find the " + g.wp + " that do not have any " + tw + " whose " + d.w + " is " + v + ".");
                }
            }
            for (Col d : some(t.dates().stream().filter(x -> x.date).toList(), 1)) {
                String v = text(d);
                Col c = pickOther(plain, d);
                if (v == null || c == null) continue;
                emit("date", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + d.sql + " > \"" + v + "\"",
                        "List the " + c.wp + " of the " + tp + " with " + d.w + " after " + v + ".", "Which " + tp + " have " + a(d.w) + " " + d.w + " later than " + v + "? Give their " + c.wp + ".");
                emit("date", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " WHERE " + d.sql + " < \"" + v + "\"",
                        "List the " + c.wp + " of the " + tp + " with " + d.w + " before " + v + ".", "Find the " + c.wp + " of " + tp + " whose " + d.w + " is earlier than " + v + ".");
                emit("date", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " ORDER BY " + d.sql + " DESC LIMIT 1",
                        "What is the " + c.w + " of the most recent " + tw + "?", "Which " + tw + " has the latest " + d.w + "? Give its " + c.w + ".");
                emit("date", Expect.ROWS, "SELECT " + c.sql + " FROM " + tn + " ORDER BY " + d.sql + " ASC LIMIT 1",
                        "What is the " + c.w + " of the " + tw + " with the earliest " + d.w + "?", "Which " + tw + " has the earliest " + d.w + "? Show its " + c.w + ".");
            }
        }

        // ---- joins

        void link(Link l) {
            Tab t = l.child(), r = l.parent();
            String on = " FROM " + t.sql + " AS T1 JOIN " + r.sql + " AS T2 ON T1." + l.fk().sql + " = T2." + l.pk().sql;
            String tw = t.w, tp = t.p, rw = r.w, rp = r.p;
            List<Col> rPlain = r.plain(), tPlain = t.plain();
            if (rPlain.isEmpty()) return;
            Col rc = r.names().isEmpty() ? pick(rPlain) : pick(r.names());
            String gb = " GROUP BY T1." + l.fk().sql;
            emit("join", Expect.ROWS, "SELECT T2." + rc.sql + " , count(*)" + on + gb,
                    "How many " + tp + " does each " + rw + " have? Show the " + rc.w + " too.", "Show the " + rc.w + " of each " + rw + " and the number of " + tp + " it has.",
                    "For each " + rw + ", give its " + rc.w + " and how many " + tp + " it has.", "Count the " + tp + " of each " + rw + ", with the " + rw + " " + rc.w + ".",
                    "How many " + tp + " are there in each " + rw + "?", "Show the number of " + tp + " per " + rw + ".", "Number of " + tp + " by " + rw + ".");
            emit("group-key", Expect.ROWS, "SELECT " + l.fk().sql + " , count(*) FROM " + t.sql + " GROUP BY " + l.fk().sql,
                    "How many " + tp + " are there for each " + l.fk().w + "?", "Show each " + l.fk().w + " and the number of " + tp + " with it.");
            emit("join-top", Expect.ROWS, "SELECT T2." + rc.sql + on + gb + " ORDER BY count(*) DESC LIMIT 1",
                    "What is the " + rc.w + " of the " + rw + " with the most " + tp + "?", "Which " + rw + " has the most " + tp + "? Give its " + rc.w + ".",
                    "Find the " + rw + " that has the largest number of " + tp + ", and show its " + rc.w + ".");
            emit("join-top", Expect.ROWS, "SELECT T2." + rc.sql + on + gb + " ORDER BY count(*) ASC LIMIT 1",
                    "What is the " + rc.w + " of the " + rw + " with the fewest " + tp + "?", "Which " + rw + " has the least " + tp + "? Give its " + rc.w + ".");
            int k = 2 + rnd.nextInt(2);
            emit("join-having", Expect.ROWS, "SELECT T2." + rc.sql + on + gb + " HAVING count(*) >= " + k,
                    "Which " + rp + " have at least " + k + " " + tp + "? Show their " + rc.wp + ".", "Find the " + rc.wp + " of the " + rp + " that have " + k + " or more " + tp + ".",
                    "List the " + rc.w + " of each " + rw + " with at least " + k + " " + tp + ".");
            emit("join-having", Expect.ROWS, "SELECT T2." + rc.sql + on + gb + " HAVING count(*) > 1",
                    "Which " + rp + " have more than one " + tw + "? Show their " + rc.wp + ".");
            String rk = l.pk().sql, fk = l.fk().sql;
            emit("not-in", Expect.ANY, "SELECT " + rc.sql + " FROM " + r.sql + " WHERE " + rk + " NOT IN (SELECT " + fk + " FROM " + t.sql + ")",
                    "Which " + rp + " have no " + tp + "? Give their " + rc.wp + ".", "Find the " + rc.w + " of the " + rp + " that do not have any " + tw + ".",
                    "List the " + rc.wp + " of " + rp + " without any " + tp + ".");
            emit("not-in", Expect.ANY, "SELECT count(*) FROM " + r.sql + " WHERE " + rk + " NOT IN (SELECT " + fk + " FROM " + t.sql + ")",
                    "How many " + rp + " have no " + tp + "?", "Count the " + rp + " that do not have any " + tw + ".");
            emit("in", Expect.ROWS, "SELECT " + rc.sql + " FROM " + r.sql + " WHERE " + rk + " IN (SELECT " + fk + " FROM " + t.sql + ")",
                    "Which " + rp + " have at least one " + tw + "? Give their " + rc.wp + ".", "Find the " + rc.wp + " of the " + rp + " that have some " + tp + ".");
            if (!tPlain.isEmpty()) {
                Col c = t.names().isEmpty() ? pick(tPlain) : pick(t.names());
                emit("join", Expect.ROWS, "SELECT T1." + c.sql + " , T2." + rc.sql + on,
                        "Show the " + c.w + " of each " + tw + " and the " + rc.w + " of its " + rw + ".", "For each " + tw + ", list its " + c.w + " and the " + rc.w + " of the " + rw + ".",
                        "List the " + c.wp + " of " + tp + " together with the " + rc.wp + " of their " + rp + ".", "What are the " + c.wp + " of the " + tp + " and the " + rc.wp + " of their " + rp + "?");
                String v = text(rc);
                if (v != null && rc.text) {
                    emit("join-where", Expect.ROWS, "SELECT T1." + c.sql + on + " WHERE T2." + rc.sql + " = \"" + v + "\"",
                            "Find the " + c.w + " of the " + tp + " whose " + rw + " has " + rc.w + " " + v + ".",
                            "What are the " + c.wp + " of " + tp + " of the " + rw + " with " + rc.w + " \"" + v + "\"?",
                            "List the " + c.wp + " of the " + tp + " in the " + rw + " " + v + ".", "Show the " + c.wp + " of all " + tp + " of " + v + ".");
                    emit("join-where", Expect.POSITIVE, "SELECT count(*)" + on + " WHERE T2." + rc.sql + " = \"" + v + "\"",
                            "How many " + tp + " does the " + rw + " " + v + " have?", "How many " + tp + " are in the " + rw + " with " + rc.w + " " + v + "?",
                            "Count the " + tp + " of " + v + ".");
                }
                String cv = text(c);
                if (cv != null && c.text) {
                    emit("join-where", Expect.ROWS, "SELECT T2." + rc.sql + on + " WHERE T1." + c.sql + " = \"" + cv + "\"",
                            "What is the " + rc.w + " of the " + rw + " of the " + tw + " whose " + c.w + " is " + cv + "?",
                            "Find the " + rw + " " + rc.w + " of " + cv + ".", "Which " + rw + " does the " + tw + " " + cv + " belong to? Give its " + rc.w + ".");
                }
                for (Col x : some(t.numbers(), 2)) {
                    if (x == c) continue;
                    // the average always (the commonest ask), and one other aggregate; none of a year's sum or average
                    List<String[]> aggs = new ArrayList<>();
                    if (!x.year) aggs.add(new String[] {"avg", "average"});
                    aggs.add(pick(x.year ? List.of(new String[] {"max", "latest"}, new String[] {"min", "earliest"})
                            : List.of(new String[] {"max", "maximum"}, new String[] {"min", "minimum"}, new String[] {"sum", "total"})));
                    for (String[] ag : aggs) {
                        emit("join-group-aggregate", Expect.ROWS, "SELECT T2." + rc.sql + " , " + ag[0] + "(T1." + x.sql + ")" + on + gb,
                                "What is the " + ag[1] + " " + x.w + " of " + tp + " in each " + rw + "?", "Show the " + ag[1] + " " + x.w + " for each " + rw + ".",
                                "Find the " + ag[1] + " " + x.w + " of the " + tp + " of each " + rw + ", with the " + rw + " " + rc.w + ".",
                                "What is the " + ag[1] + " " + x.w + " per " + rw + "?", "List the " + ag[1] + " " + x.w + " by " + rw + ".",
                                "For each " + rw + ", what is the " + ag[1] + " " + x.w + " of its " + tp + "?");
                        if (v != null && rc.text) {
                            emit("join-where-aggregate", Expect.ROWS, "SELECT " + ag[0] + "(T1." + x.sql + ")" + on + " WHERE T2." + rc.sql + " = \"" + v + "\"",
                                    "What is the " + ag[1] + " " + x.w + " of the " + tp + " in the " + rw + " " + v + "?",
                                    "Find the " + ag[1] + " " + x.w + " of " + tp + " whose " + rw + " is " + v + ".");
                        }
                    }
                    emit("join-order", Expect.ROWS, "SELECT T1." + c.sql + " , T2." + rc.sql + on + " ORDER BY T1." + x.sql + " DESC",
                            "List the " + c.wp + " of " + tp + " and the " + rc.wp + " of their " + rp + ", sorted by " + x.w + " from highest to lowest.",
                            "Show each " + tw + "'s " + c.w + " and its " + rw + " " + rc.w + ", in descending order of " + x.w + ".");
                    Object n = middle(x);
                    if (n != null) {
                        emit("join-compare", Expect.ROWS, "SELECT DISTINCT T2." + rc.sql + on + " WHERE T1." + x.sql + " > " + n,
                                "Find the " + rc.wp + " of the " + rp + " that have " + a(tw) + " " + tw + " with " + x.w + " above " + n + ".",
                                "Which " + rp + " have " + tp + " whose " + x.w + " is greater than " + n + "? Show their " + rc.wp + ".");
                    }
                }
                for (Col y : some(r.numbers(), 1)) {
                    emit("join-order", Expect.ROWS, "SELECT T1." + c.sql + on + " ORDER BY T2." + y.sql + " DESC",
                            "List the " + c.wp + " of " + tp + " sorted by the " + y.w + " of their " + rw + " in descending order.");
                }
            }
        }

        /** Three-table joins through a table with links to two others (a many-to-many table). */
        void bridges() {
            for (Tab b : m.tabs) {
                List<Link> ls = m.linksFrom(b);
                for (int i = 0; i < ls.size(); i++) {
                    for (int j = i + 1; j < ls.size(); j++) {
                        Link l1 = ls.get(i), l2 = ls.get(j);
                        if (l1.parent() == l2.parent()) continue;
                        bridge(b, l1, l2);
                        bridge(b, l2, l1);
                    }
                }
            }
        }

        void bridge(Tab b, Link l1, Link l2) {
            Tab p = l1.parent(), q = l2.parent();
            if (p.plain().isEmpty() || q.plain().isEmpty()) return;
            Col pc = p.names().isEmpty() ? pick(p.plain()) : pick(p.names());
            Col qc = q.names().isEmpty() ? pick(q.plain()) : pick(q.names());
            String on = " FROM " + b.sql + " AS T1 JOIN " + p.sql + " AS T2 ON T1." + l1.fk().sql + " = T2." + l1.pk().sql + " JOIN " + q.sql + " AS T3 ON T1."
                    + l2.fk().sql + " = T3." + l2.pk().sql;
            emit("join-3", Expect.ROWS, "SELECT T2." + pc.sql + " , T3." + qc.sql + on,
                    "Show the " + pc.wp + " of " + p.p + " and the " + qc.wp + " of the " + q.p + " they are linked to.",
                    "For each " + b.w + ", show the " + p.w + " " + pc.w + " and the " + q.w + " " + qc.w + ".",
                    "List the " + p.w + " " + pc.wp + " together with the " + q.w + " " + qc.wp + ".");
            String v = text(qc);
            if (v != null && qc.text) {
                emit("join-3", Expect.ROWS, "SELECT T2." + pc.sql + on + " WHERE T3." + qc.sql + " = \"" + v + "\"",
                        "What are the " + pc.wp + " of the " + p.p + " linked to the " + q.w + " " + v + "?",
                        "Find the " + pc.wp + " of " + p.p + " of the " + q.w + " with " + qc.w + " " + v + ".",
                        "Show the " + p.w + " " + pc.wp + " for " + v + ".");
                emit("join-3", Expect.POSITIVE, "SELECT count(*)" + on + " WHERE T3." + qc.sql + " = \"" + v + "\"",
                        "How many " + p.p + " are linked to the " + q.w + " " + v + "?", "Count the " + p.p + " of " + v + ".");
            }
            emit("join-3", Expect.ROWS, "SELECT T2." + pc.sql + " , count(*) FROM " + b.sql + " AS T1 JOIN " + p.sql + " AS T2 ON T1." + l1.fk().sql + " = T2."
                            + l1.pk().sql + " GROUP BY T1." + l1.fk().sql,
                    "How many " + q.p + " does each " + p.w + " have? Show the " + pc.w + ".", "For each " + p.w + ", show its " + pc.w + " and the number of " + q.p + ".");
        }

        // ---- values

        Col pickOther(List<Col> xs, Col not) {
            List<Col> rest = xs.stream().filter(c -> c != not).toList();
            if (rest.isEmpty()) return null;
            List<Col> names = rest.stream().filter(c -> c.nameLike).toList();
            return !names.isEmpty() && rnd.nextInt(3) > 0 ? pick(names) : pick(rest);
        }

        /** A value of a numeric column from the middle of its sampled values (so that > and < both find rows), or null. */
        Object middle(Col x) {
            List<Double> ds = new ArrayList<>();
            for (Object v : x.values) if (v instanceof Number n && Double.isFinite(n.doubleValue())) ds.add(n.doubleValue());
            if (ds.isEmpty()) {
                if (m.haveRows || !o.syntheticValues()) return null;
                return x.year ? 2000 + 5 * rnd.nextInt(4) : List.of(5, 10, 20, 50, 100).get(rnd.nextInt(5));
            }
            Collections.sort(ds);
            double d = ds.get(Math.min(ds.size() - 1, ds.size() / 4 + rnd.nextInt(Math.max(1, ds.size() / 2))));
            return num(d);
        }

        /** Two sampled values of a numeric column, low then high, or null. */
        Object[] range(Col x) {
            List<Double> ds = new ArrayList<>();
            for (Object v : x.values) if (v instanceof Number n && Double.isFinite(n.doubleValue())) ds.add(n.doubleValue());
            if (ds.size() < 3) return null;
            Collections.sort(ds);
            int i = rnd.nextInt(ds.size() / 2), j = ds.size() / 2 + rnd.nextInt(ds.size() - ds.size() / 2);
            if (ds.get(i).equals(ds.get(j))) return null;
            return new Object[] {num(ds.get(i)), num(ds.get(j))};
        }

        /** A short text value of the column for a double-quoted literal, or null (a synthetic one without a database). */
        String text(Col c) {
            List<String> ok = new ArrayList<>();
            for (Object v : c.values) {
                if (!(v instanceof String s)) continue;
                if (s.isBlank() || !s.strip().equals(s) || s.length() > 40 || s.contains("\"") || s.contains("\\") || s.contains("\n") || s.contains("\r")
                        || s.contains("%") || m.columnNames.contains(s.toLowerCase(Locale.ROOT))) continue;
                ok.add(s);
            }
            if (!ok.isEmpty()) return pick(ok);
            if (m.haveRows || !o.syntheticValues()) return null;
            if (c.date) return (2000 + rnd.nextInt(20)) + "-0" + (1 + rnd.nextInt(9)) + "-1" + rnd.nextInt(10);
            return pick(SYNTHETIC);
        }

        /** A word of at least three letters from a value, for LIKE, or null. */
        String substring(String v) {
            List<String> ws = new ArrayList<>();
            for (String w : v.split("[^\\p{L}\\p{N}]+")) if (w.length() >= 3 && w.chars().allMatch(Character::isLetterOrDigit)) ws.add(w);
            return ws.isEmpty() ? null : pick(ws);
        }
    }

    /** Made-up text values for schemas without rows: proper-noun-like words, none of them a SQL keyword. */
    static final List<String> SYNTHETIC = List.of("Smith", "London", "Paris", "Green", "Alpha", "North", "Summer", "Johnson", "Berlin", "Blue",
            "Garcia", "Tokyo", "Silver", "Central", "Miller", "Boston", "Delta", "Rivera", "Oak", "Madrid", "Victoria", "Atlas", "Lee", "Orion",
            "Chen", "Lima", "Harbor", "Taylor", "Sydney", "Maple");

    /** A number as SQL and questions write it: whole numbers without ".0". */
    static Object num(Object v) {
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e15) return (long) d;
            return n instanceof Double || n instanceof Float ? Double.toString(d) : n.toString();
        }
        return v;
    }

    /** "a" or "an" before a word. */
    static String a(String word) {
        return !word.isEmpty() && "aeiou".indexOf(Character.toLowerCase(word.charAt(0))) >= 0 ? "an" : "a";
    }

    /** Counts of drills by template, for people: {@code count 8, column 12, ...}. */
    public static String describe(Report r) {
        StringBuilder sb = new StringBuilder();
        Map<String, Integer> all = new LinkedHashMap<>(r.kept());
        for (Map.Entry<String, Integer> e : all.entrySet()) {
            if (sb.length() > 0) sb.append(", ");
            int d = r.dropped().getOrDefault(e.getKey(), 0);
            sb.append(e.getKey()).append(' ').append(e.getValue());
            if (d > 0) sb.append(" (-").append(d).append(')');
        }
        return sb.toString();
    }
}
