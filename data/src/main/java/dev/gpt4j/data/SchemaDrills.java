package dev.gpt4j.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Synthetic text-to-SQL pairs ("drills") that teach a model to read the schema: questions written from templates
 * that name a table and its columns in words ({@code singer_in_concert} → "singers in concert"), with the SQL that
 * answers them on that schema. "How many singers are there?" → {@code SELECT count(*) FROM singer}; "What is the
 * average age of all singers?" → {@code SELECT avg(age) FROM singer}; a join along each foreign key; conditions with
 * values read from the database.
 *
 * <p>Why: a small model fine-tuned on Spider's 8,659 pairs learns its 146 training databases, not how to match
 * question words to the names of a schema it has not seen; on Spider dev it reads the wrong table
 * ({@code FROM singer_in_concert} for "How many singers"). Drills give every table and column of the training
 * databases many questions that name it, in Spider's SQL style (upper-case keywords, lower-case functions, T1/T2
 * aliases, double-quoted strings).
 *
 * <p>Only databases of the <b>training</b> split are used ({@link #fromSpiderTrain}); Spider dev's databases never
 * enter. The output is deterministic: each table's choices come from a random generator seeded by the database and
 * table names.
 */
public final class SchemaDrills {
    /** The {@link TextToSqlExample#source()} of drills. */
    public static final String SOURCE = "drills";
    /**
     * The source of the compound drills ({@link #compoundForSchema}): two conditions, HAVING, a nested SELECT (above
     * the average, NOT IN along a foreign key), the top N, a group's average, OR.
     */
    public static final String COMPOUND = "drills2";

    /** Whether a source is one of the drill sets. */
    public static boolean isDrills(String source) {
        return SOURCE.equals(source) || COMPOUND.equals(source);
    }

    /** Values of a column, for conditions: a few distinct non-null values, or none. */
    @FunctionalInterface
    public interface Values {
        List<Object> of(Table table, Column column);

        Values NONE = (t, c) -> List.of();
    }

    private SchemaDrills() {}

    /**
     * Drills for every database of Spider's training split, with condition values read from its SQLite file
     * (databases without one get drills without values).
     */
    public static List<TextToSqlExample> fromSpiderTrain(Spider spider) {
        return fromSpiderTrain(spider, false);
    }

    /** As {@link #fromSpiderTrain(Spider)}, the compound drills ({@link #COMPOUND}) if {@code compound}. */
    public static List<TextToSqlExample> fromSpiderTrain(Spider spider, boolean compound) {
        Set<String> dbs = new LinkedHashSet<>();
        for (SpiderExample e : spider.examples("train")) dbs.add(e.dbId());
        List<TextToSqlExample> out = new ArrayList<>();
        for (String db : dbs) {
            Schema schema = spider.schema(db);
            Path file = spider.databasePath(db);
            if (Files.isRegularFile(file)) {
                try (SqliteDatabase d = SqliteDatabase.open(file)) {
                    out.addAll(compound ? compoundForSchema(db, schema, databaseValues(d)) : forSchema(db, schema, databaseValues(d)));
                }
            } else {
                out.addAll(compound ? compoundForSchema(db, schema, Values.NONE) : forSchema(db, schema, Values.NONE));
            }
        }
        return out;
    }

    /** Up to 20 distinct, short, non-null values of a column, read from the database (none if the query fails). */
    public static Values databaseValues(SqliteDatabase db) {
        return (t, c) -> {
            String sql = "SELECT DISTINCT " + Identifiers.quote(c.name()) + " FROM " + Identifiers.quote(t.name()) + " WHERE "
                    + Identifiers.quote(c.name()) + " IS NOT NULL LIMIT 20";
            try {
                List<Object> vs = new ArrayList<>();
                for (List<Object> row : db.query(sql).rows()) vs.add(row.get(0));
                return vs;
            } catch (RuntimeException e) {
                return List.of(); // a column the file lacks, or a type SQLite cannot read: no conditions on it
            }
        };
    }

    /** The drills of one schema; {@code group} names it (the database id) in each example. */
    public static List<TextToSqlExample> forSchema(String group, Schema schema, Values values) {
        return write(group, schema, values, false);
    }

    /** The compound drills ({@link #COMPOUND}) of one schema; as {@link #forSchema}. */
    public static List<TextToSqlExample> compoundForSchema(String group, Schema schema, Values values) {
        return write(group, schema, values, true);
    }

    private static List<TextToSqlExample> write(String group, Schema schema, Values values, boolean compound) {
        List<TextToSqlExample> out = new ArrayList<>();
        Set<String> columnNames = new HashSet<>();
        for (Table t : schema.tables()) for (Column c : t.columns()) columnNames.add(c.name().toLowerCase(Locale.ROOT));
        for (Table t : schema.tables()) {
            if (t.columns().isEmpty()) continue;
            Random rnd = new Random(seed((compound ? "2/" : "") + group + "/" + t.name()));
            Writer w = new Writer(compound ? COMPOUND : SOURCE, group, schema, t, values, columnNames, rnd, out);
            if (compound) w.writeCompound();
            else w.write();
        }
        return out;
    }

    private static long seed(String s) {
        CRC32 crc = new CRC32();
        crc.update(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return crc.getValue();
    }

    /** An identifier in words: {@code People_ID} → "people id", {@code FlightNo} → "flight no". */
    public static String words(String name) {
        String spaced = name.replaceAll("([a-z0-9])([A-Z])", "$1 $2").replace('_', ' ').replace('-', ' ');
        return spaced.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
    }

    /** The English plural of the last word of a phrase: "singer" → "singers", "city" → "cities", "class" → "classes". */
    public static String plural(String phrase) {
        int sp = phrase.lastIndexOf(' ');
        String head = phrase.substring(0, sp + 1);
        String w = phrase.substring(sp + 1);
        if (w.isEmpty() || Character.isDigit(w.charAt(w.length() - 1))) return phrase;
        String p;
        if (w.endsWith("s") && !w.endsWith("ss") || w.endsWith("people") || w.endsWith("data")) p = w;
        else if (w.endsWith("y") && w.length() > 1 && "aeiou".indexOf(w.charAt(w.length() - 2)) < 0) p = w.substring(0, w.length() - 1) + "ies";
        else if (w.endsWith("ss") || w.endsWith("x") || w.endsWith("ch") || w.endsWith("sh")) p = w + "es";
        else p = w + "s";
        return head + p;
    }

    /** The singular of the last word of a plural phrase, for "each ...": "products" → "product", "cities" → "city". */
    public static String singular(String phrase) {
        int sp = phrase.lastIndexOf(' ');
        String head = phrase.substring(0, sp + 1);
        String w = phrase.substring(sp + 1);
        if (w.endsWith("ies") && w.length() > 4) return head + w.substring(0, w.length() - 3) + "y";
        if (w.endsWith("sses") || w.endsWith("xes") || w.endsWith("ches") || w.endsWith("shes")) return head + w.substring(0, w.length() - 2);
        if (w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us") && !w.endsWith("is") && w.length() > 3) return head + w.substring(0, w.length() - 1);
        return phrase;
    }

    /** A numeric column, by the type the prompt shows ({@link PromptFormat#trainingType}: Spider's {@code number}, WikiSQL's {@code real}). */
    private static boolean isNumber(Column c) {
        String t = PromptFormat.trainingType(c.type());
        return t.equals("number") || t.equals("real");
    }

    private static boolean isKeyLike(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.equals("id") || n.endsWith("_id") || n.endsWith("id") && Character.isUpperCase(name.charAt(Math.max(0, name.length() - 2)));
    }

    /** Writes one table's drills. */
    private static final class Writer {
        private final String source;
        private final String group;
        private final Schema schema;
        private final Table t;
        private final Values values;
        private final Set<String> columnNames;
        private final Random rnd;
        private final List<TextToSqlExample> out;
        private final String tn; // the table as SQL writes it
        private final String tw; // the table in words
        private final String tp; // plural
        private final List<Column> plain = new ArrayList<>(); // columns a question would ask for (not key-like)
        private final List<Column> numbers = new ArrayList<>(); // numeric, not key-like

        Writer(String source, String group, Schema schema, Table t, Values values, Set<String> columnNames, Random rnd, List<TextToSqlExample> out) {
            this.source = source;
            this.group = group;
            this.schema = schema;
            this.t = t;
            this.values = values;
            this.columnNames = columnNames;
            this.rnd = rnd;
            this.out = out;
            this.tn = Identifiers.quoteIfNeeded(t.name());
            this.tw = singular(words(t.name()));
            this.tp = plural(tw);
            for (Column c : t.columns()) {
                if (isKeyLike(c.name()) || t.isPrimaryKey(c.name())) continue;
                plain.add(c);
                if (isNumber(c)) numbers.add(c);
            }
        }

        /** Adds a drill, unless its SQL does not parse (a column named like a parser keyword, e.g. {@code map}). */
        private void add(String question, String sql) {
            if (!SqlGuard.parses(sql)) return;
            String q = Character.toUpperCase(question.charAt(0)) + question.substring(1);
            out.add(new TextToSqlExample(source, group, schema, q, sql));
        }

        private String pick(String... options) {
            return options[rnd.nextInt(options.length)];
        }

        private <T> T pick(List<T> options) {
            return options.get(rnd.nextInt(options.size()));
        }

        private static String n(Column c) {
            return Identifiers.quoteIfNeeded(c.name());
        }

        void write() {
            add(pick("How many " + tp + " are there?", "Count the number of " + tp + ".", "What is the total number of " + tp + "?",
                    "How many " + tp + " do we have?", "Find the number of " + tp + ".", "What is the number of " + tp + "?"),
                    "SELECT count(*) FROM " + tn);
            if (plain.isEmpty()) return;
            List<Column> asked = new ArrayList<>(plain);
            java.util.Collections.shuffle(asked, rnd);
            for (Column c : asked.subList(0, Math.min(3, asked.size()))) {
                String cw = words(c.name());
                add(pick("List the " + cw + " of all " + tp + ".", "What are the " + plural(cw) + " of the " + tp + "?",
                        "Show the " + cw + " of each " + tw + ".", "Give me the " + cw + " of every " + tw + ".",
                        "Find the " + cw + " of all " + tp + ".", "Return the " + plural(cw) + " of " + tp + "."),
                        "SELECT " + n(c) + " FROM " + tn);
            }
            Column c = asked.get(0);
            String cw = words(c.name());
            if (asked.size() > 1) {
                Column d = asked.get(1);
                add(pick("Show the " + cw + " and " + words(d.name()) + " of all " + tp + ".",
                        "What are the " + cw + " and " + words(d.name()) + " of each " + tw + "?"),
                        "SELECT " + n(c) + " , " + n(d) + " FROM " + tn);
            }
            add(pick("How many different " + plural(cw) + " are there among the " + tp + "?", "Count the number of distinct " + plural(cw) + " of " + tp + "."),
                    "SELECT count(DISTINCT " + n(c) + ") FROM " + tn);
            add(pick("List the distinct " + plural(cw) + " of all " + tp + ".", "What are the different " + plural(cw) + " of the " + tp + "?"),
                    "SELECT DISTINCT " + n(c) + " FROM " + tn);
            add(pick("Show each " + cw + " and the number of " + tp + " with it.", "How many " + tp + " are there for each " + cw + "?"),
                    "SELECT " + n(c) + " , count(*) FROM " + tn + " GROUP BY " + n(c));
            add(pick("Which " + cw + " has the most " + tp + "?", "What is the most common " + cw + " among the " + tp + "?"),
                    "SELECT " + n(c) + " FROM " + tn + " GROUP BY " + n(c) + " ORDER BY count(*) DESC LIMIT 1");
            if (!numbers.isEmpty()) {
                Column m = pick(numbers);
                String mw = words(m.name());
                String[][] aggs = {{"avg", "average"}, {"max", "maximum"}, {"min", "minimum"}, {"sum", "total"}};
                String[] a = aggs[rnd.nextInt(aggs.length)];
                add(pick("What is the " + a[1] + " " + mw + " of all " + tp + "?", "Find the " + a[1] + " " + mw + " of the " + tp + ".",
                        "Return the " + a[1] + " " + mw + " of " + tp + "."),
                        "SELECT " + a[0] + "(" + n(m) + ") FROM " + tn);
                add("What are the maximum and minimum " + mw + " of " + tp + "?", "SELECT max(" + n(m) + ") , min(" + n(m) + ") FROM " + tn);
                boolean desc = rnd.nextBoolean();
                if (m != c) {
                    add(desc ? pick("List the " + cw + " of all " + tp + " in descending order of " + mw + ".",
                                    "Show the " + cw + " of " + tp + " sorted by " + mw + " from highest to lowest.")
                                    : pick("List the " + cw + " of all " + tp + " ordered by " + mw + ".",
                                    "Show the " + cw + " of " + tp + " in ascending order of " + mw + "."),
                            "SELECT " + n(c) + " FROM " + tn + " ORDER BY " + n(m) + (desc ? " DESC" : " ASC"));
                    boolean high = rnd.nextBoolean();
                    add("What is the " + cw + " of the " + tw + " with the " + (high ? pick("highest", "largest", "most") : pick("lowest", "smallest", "least"))
                            + " " + mw + "?", "SELECT " + n(c) + " FROM " + tn + " ORDER BY " + n(m) + (high ? " DESC" : " ASC") + " LIMIT 1");
                }
                Object v = number(values.of(t, m));
                if (v != null) {
                    boolean gt = rnd.nextBoolean();
                    String op = gt ? ">" : "<";
                    String opw = gt ? pick("greater than", "more than", "larger than") : pick("less than", "smaller than", "below");
                    add(pick("How many " + tp + " have a " + mw + " " + opw + " " + v + "?", "Count the " + tp + " whose " + mw + " is " + opw + " " + v + "."),
                            "SELECT count(*) FROM " + tn + " WHERE " + n(m) + " " + op + " " + v);
                    if (m != c) {
                        add("Find the " + cw + " of the " + tp + " whose " + mw + " is " + opw + " " + v + ".",
                                "SELECT " + n(c) + " FROM " + tn + " WHERE " + n(m) + " " + op + " " + v);
                    }
                }
            }
            List<Column> texts = plain.stream().filter(x -> !isNumber(x)).toList();
            if (!texts.isEmpty()) {
                Column d = pick(texts);
                String v = text(values.of(t, d));
                if (v != null) {
                    String dw = words(d.name());
                    if (d != c) {
                        add(pick("What is the " + cw + " of the " + tw + " whose " + dw + " is " + v + "?",
                                "Find the " + cw + " of " + tp + " with " + dw + " " + v + ".",
                                "Show the " + cw + " of the " + tp + " that have " + dw + " \"" + v + "\"."),
                                "SELECT " + n(c) + " FROM " + tn + " WHERE " + n(d) + " = \"" + v + "\"");
                    }
                    add(pick("How many " + tp + " have " + dw + " " + v + "?", "Count the number of " + tp + " whose " + dw + " is " + v + "."),
                            "SELECT count(*) FROM " + tn + " WHERE " + n(d) + " = \"" + v + "\"");
                }
            }
            for (ForeignKey fk : schema.foreignKeys()) {
                if (!fk.table().equalsIgnoreCase(t.name())) continue;
                Table r = schema.table(fk.refTable());
                if (r == null || r.name().equalsIgnoreCase(t.name()) || r.column(fk.refColumn()) == null || t.column(fk.column()) == null) continue;
                join(fk, r);
            }
        }

        /** The compound drills of this table: see {@link #COMPOUND}. */
        void writeCompound() {
            if (plain.isEmpty()) return;
            Column c = pick(plain);
            String cw = words(c.name());
            add(pick("Which " + plural(cw) + " have at least two " + tp + "?", "Show the " + plural(cw) + " that more than one " + tw + " has."),
                    "SELECT " + n(c) + " FROM " + tn + " GROUP BY " + n(c) + " HAVING count(*) >= 2");
            List<Column> texts = plain.stream().filter(x -> !isNumber(x)).toList();
            if (!numbers.isEmpty()) {
                Column m = pick(numbers);
                String mw = words(m.name());
                if (m != c) {
                    add(pick("List the " + cw + " of the " + tp + " whose " + mw + " is above the average.",
                            "Which " + tp + " have a " + mw + " higher than the average " + mw + "? Give their " + cw + "."),
                            "SELECT " + n(c) + " FROM " + tn + " WHERE " + n(m) + " > (SELECT avg(" + n(m) + ") FROM " + tn + ")");
                    int k = 2 + rnd.nextInt(4);
                    add("List the " + cw + " of the " + k + " " + tp + " with the " + pick("highest", "largest") + " " + mw + ".",
                            "SELECT " + n(c) + " FROM " + tn + " ORDER BY " + n(m) + " DESC LIMIT " + k);
                    add(pick("What is the average " + mw + " of " + tp + " for each " + cw + "?", "Show each " + cw + " and the average " + mw + " of its " + tp + "."),
                            "SELECT " + n(c) + " , avg(" + n(m) + ") FROM " + tn + " GROUP BY " + n(c));
                }
                Object v = number(values.of(t, m));
                if (v != null && !texts.isEmpty()) {
                    Column d = pick(texts);
                    String dv = text(values.of(t, d));
                    if (dv != null) {
                        add("How many " + tp + " have " + words(d.name()) + " " + dv + " and a " + mw + " greater than " + v + "?",
                                "SELECT count(*) FROM " + tn + " WHERE " + n(d) + " = \"" + dv + "\" AND " + n(m) + " > " + v);
                    }
                }
            }
            if (!texts.isEmpty()) {
                Column d = pick(texts);
                List<Object> vs = values.of(t, d);
                String a = text(vs), b = text(vs);
                if (a != null && b != null && !a.equals(b) && d != c) {
                    add("Find the " + cw + " of the " + tp + " whose " + words(d.name()) + " is either " + a + " or " + b + ".",
                            "SELECT " + n(c) + " FROM " + tn + " WHERE " + n(d) + " = \"" + a + "\" OR " + n(d) + " = \"" + b + "\"");
                }
            }
            for (ForeignKey fk : schema.foreignKeys()) {
                if (!fk.table().equalsIgnoreCase(t.name())) continue;
                Table r = schema.table(fk.refTable());
                if (r == null || r.name().equalsIgnoreCase(t.name()) || r.column(fk.refColumn()) == null || t.column(fk.column()) == null) continue;
                List<Column> rPlain = r.columns().stream().filter(x -> !isKeyLike(x.name()) && !r.isPrimaryKey(x.name())).toList();
                if (rPlain.isEmpty()) continue;
                Column rc = pick(rPlain);
                String rn = Identifiers.quoteIfNeeded(r.name());
                String rw = singular(words(r.name()));
                String rp = plural(rw);
                String fkc = Identifiers.quoteIfNeeded(fk.column()), rk = Identifiers.quoteIfNeeded(fk.refColumn());
                add(pick("Which " + rp + " have no " + tp + "? Give their " + words(rc.name()) + ".",
                        "Find the " + words(rc.name()) + " of the " + rp + " that do not have any " + tw + "."),
                        "SELECT " + n(rc) + " FROM " + rn + " WHERE " + rk + " NOT IN (SELECT " + fkc + " FROM " + tn + ")");
                add("How many " + rp + " have no " + tp + "?", "SELECT count(*) FROM " + rn + " WHERE " + rk + " NOT IN (SELECT " + fkc + " FROM " + tn + ")");
                add(pick("Find the " + words(rc.name()) + " of the " + rp + " that have at least two " + tp + ".",
                        "Which " + rp + " have two or more " + tp + "? Show their " + words(rc.name()) + "."),
                        "SELECT T2." + n(rc) + " FROM " + tn + " AS T1 JOIN " + rn + " AS T2 ON T1." + fkc + " = T2." + rk + " GROUP BY T1." + fkc
                                + " HAVING count(*) >= 2");
            }
        }

        /** Questions over this table joined to {@code r} along {@code fk}. */
        private void join(ForeignKey fk, Table r) {
            List<Column> rPlain = r.columns().stream().filter(x -> !isKeyLike(x.name()) && !r.isPrimaryKey(x.name())).toList();
            if (rPlain.isEmpty()) return;
            Column rc = pick(rPlain);
            String rw = singular(words(r.name()));
            String rcw = words(rc.name());
            String on = " FROM " + tn + " AS T1 JOIN " + Identifiers.quoteIfNeeded(r.name()) + " AS T2 ON T1." + Identifiers.quoteIfNeeded(fk.column())
                    + " = T2." + Identifiers.quoteIfNeeded(fk.refColumn());
            if (!plain.isEmpty()) {
                Column c = pick(plain);
                add(pick("Show the " + words(c.name()) + " of each " + tw + " and the " + rcw + " of its " + rw + ".",
                        "For each " + tw + ", list its " + words(c.name()) + " and the " + rcw + " of the " + rw + "."),
                        "SELECT T1." + n(c) + " , T2." + n(rc) + on);
                String v = text(values.of(r, rc));
                if (v != null && !isNumber(rc)) {
                    add(pick("Find the " + words(c.name()) + " of the " + tp + " whose " + rw + " has " + rcw + " " + v + ".",
                            "What are the " + plural(words(c.name())) + " of " + tp + " of the " + rw + " with " + rcw + " \"" + v + "\"?"),
                            "SELECT T1." + n(c) + on + " WHERE T2." + n(rc) + " = \"" + v + "\"");
                }
            }
            add(pick("How many " + tp + " does each " + rw + " have? Show the " + rcw + " too.",
                    "Show the " + rcw + " of each " + rw + " and the number of " + tp + " it has."),
                    "SELECT T2." + n(rc) + " , count(*)" + on + " GROUP BY T1." + Identifiers.quoteIfNeeded(fk.column()));
            add("What is the " + rcw + " of the " + rw + " with the most " + tp + "?",
                    "SELECT T2." + n(rc) + on + " GROUP BY T1." + Identifiers.quoteIfNeeded(fk.column()) + " ORDER BY count(*) DESC LIMIT 1");
        }

        /** A whole or decimal number from the values, as SQL writes it, or null. */
        private Object number(List<Object> vs) {
            List<String> ok = new ArrayList<>();
            for (Object o : vs) {
                if (o instanceof Number x) {
                    double d = x.doubleValue();
                    if (Double.isFinite(d)) ok.add(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : x.toString());
                }
            }
            return ok.isEmpty() ? null : pick(ok);
        }

        /** A short text value usable in a double-quoted literal (not a column's name, which SQLite would read), or null. */
        private String text(List<Object> vs) {
            List<String> ok = new ArrayList<>();
            for (Object o : vs) {
                if (!(o instanceof String s)) continue;
                String st = s.strip();
                if (st.isEmpty() || !st.equals(s) || s.length() > 40 || s.contains("\"") || s.contains("\\") || s.contains("\n") || s.contains("\r")
                        || columnNames.contains(s.toLowerCase(Locale.ROOT))) continue;
                ok.add(s);
            }
            return ok.isEmpty() ? null : pick(ok);
        }
    }
}
