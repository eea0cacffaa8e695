package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drills must answer their question. A hand-made league database (cities, teams, players: a few rows each, a city
 * without a team, a team without players) gets its basic and compound drills; each question is read here by the
 * template it was written from (a pattern per phrasing, the names in words mapped back to columns by hand), its answer
 * computed from the rows in plain Java, and the drill's SQL must return exactly that answer on the database. Every
 * drill must be read by exactly one template, and every template must occur, so a new template fails here until its
 * meaning is written down.
 *
 * <p>Grouped counts follow Spider's convention (and its gold SQL): "the number of teams each city has" lists the cities
 * that have teams. Where the question allows several answers (a tie for "the most"), any of them is accepted.
 */
class SchemaDrillsAnswersTest {
    /** A column as questions name it: its name in SQL, singular and plural words, numeric or not. */
    record Col(String name, String word, String words, boolean number) {}

    /** A table: its words, columns, rows (values in column order) and foreign keys (column -> table). */
    record Tab(String name, String word, String words, List<Col> cols, List<List<Object>> rows, Map<String, String> fks) {
        int index(String col) {
            for (int i = 0; i < cols.size(); i++) if (cols.get(i).name().equals(col)) return i;
            throw new IllegalArgumentException(name + "." + col);
        }

        Col col(String word) {
            for (Col c : cols) if (c.word().equals(word) || c.words().equals(word)) return c;
            return null;
        }

        List<Object> column(String col) {
            int i = index(col);
            return rows.stream().map(r -> r.get(i)).toList();
        }
    }

    static final Tab CITY = new Tab("city", "city", "cities",
            List.of(new Col("city_id", "city id", "city ids", true), new Col("name", "name", "names", false),
                    new Col("country", "country", "countries", false), new Col("population", "population", "populations", true)),
            List.of(List.of(1L, "Leeds", "England", 790000L), List.of(2L, "Porto", "Portugal", 230000L), List.of(3L, "Lyon", "France", 520000L),
                    List.of(4L, "Braga", "Portugal", 190000L)),
            Map.of());
    static final Tab TEAM = new Tab("team", "team", "teams",
            List.of(new Col("team_id", "team id", "team ids", true), new Col("name", "name", "names", false),
                    new Col("city_id", "city id", "city ids", true), new Col("founded", "founded", "foundeds", true),
                    new Col("colour", "colour", "colours", false)),
            List.of(List.of(1L, "Whites", 1L, 1919L, "white"), List.of(2L, "Dragons", 2L, 1893L, "blue"), List.of(3L, "Lions", 3L, 1950L, "red"),
                    List.of(4L, "Boavista", 2L, 1903L, "black")),
            Map.of("city_id", "city"));
    static final Tab PLAYER = new Tab("player", "player", "players",
            List.of(new Col("player_id", "player id", "player ids", true), new Col("name", "name", "names", false),
                    new Col("team_id", "team id", "team ids", true), new Col("age", "age", "ages", true),
                    new Col("position", "position", "positions", false), new Col("goals", "goals", "goals", true)),
            List.of(List.of(1L, "Ann", 1L, 24L, "forward", 12L), List.of(2L, "Bo", 1L, 31L, "keeper", 0L), List.of(3L, "Cy", 2L, 27L, "forward", 20L),
                    List.of(4L, "Di", 2L, 22L, "defender", 3L), List.of(5L, "Ed", 2L, 35L, "defender", 5L),
                    List.of(6L, "Flo", 3L, 29L, "forward", 9L)),
            Map.of("team_id", "team"));
    static final List<Tab> TABLES = List.of(CITY, TEAM, PLAYER);

    static Tab table(String word) {
        for (Tab t : TABLES) if (t.word().equals(word) || t.words().equals(word)) return t;
        return null;
    }

    /** What a question means: the rows it asks for, in order or not, or any one of several answers. */
    record Answer(List<List<List<Object>>> accepted, boolean ordered) {
        static Answer rows(List<List<Object>> rows) {
            return new Answer(List.of(rows), false);
        }

        static Answer inOrder(List<List<Object>> rows) {
            return new Answer(List.of(rows), true);
        }

        static Answer anyOf(List<List<List<Object>>> each) {
            return new Answer(each, false);
        }

        static Answer one(Object... values) {
            return rows(List.of(List.of(values)));
        }

        boolean matches(List<List<Object>> actual) {
            for (List<List<Object>> a : accepted) if (same(a, actual, ordered)) return true;
            return false;
        }
    }

    /** One question template: its phrasings (named groups t, c, d, m, v, ...) and its meaning over the rows. */
    record Template(String name, List<Pattern> phrasings, Function<Parts, Answer> meaning) {
        Template(String name, Function<Parts, Answer> meaning, String... phrasings) {
            this(name, java.util.Arrays.stream(phrasings).map(p -> Pattern.compile(p.replace("<T>", "(?<t>[\\w ]+?)").replace("<C>", "(?<c>[\\w ]+?)")
                    .replace("<D>", "(?<d>[\\w ]+?)").replace("<M>", "(?<m>[\\w ]+?)").replace("<M2>", "(?<m2>[\\w ]+?)").replace("<R>", "(?<r>[\\w ]+?)").replace("<RC>", "(?<rc>[\\w ]+?)")
                    .replace("<V>", "\"?(?<v>[^\"]+?)\"?"))).toList(), meaning);
        }
    }

    /** The parts of one reading of a question; a lookup that fails makes the reading invalid. */
    static final class Parts {
        final Matcher m;
        final Tab t;

        Parts(Matcher m) {
            this.m = m;
            this.t = table(m.group("t"));
            if (t == null) throw new NoReading();
        }

        boolean has(String group) {
            return m.pattern().pattern().contains("(?<" + group + ">");
        }

        String text(String group) {
            return m.group(group);
        }

        Col col(String group) {
            return col(t, group);
        }

        Col col(Tab in, String group) {
            Col c = in.col(m.group(group));
            if (c == null) throw new NoReading();
            return c;
        }

        Tab ref() {
            Tab r = table(m.group("r"));
            if (r == null || !t.fks().containsValue(r.name())) throw new NoReading();
            return r;
        }

        String fkTo(Tab r) {
            return t.fks().entrySet().stream().filter(e -> e.getValue().equals(r.name())).findFirst().orElseThrow().getKey();
        }

        /** A value as the question writes it, typed as the column's values are (drills take text values from the rows). */
        Object value(Tab in, Col c, String group) {
            String v = m.group(group);
            if (!c.number()) {
                if (!in.column(c.name()).contains(v)) throw new NoReading();
                return v;
            }
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new NoReading();
            }
        }
    }

    static final class NoReading extends RuntimeException {
        NoReading() {
            super(null, null, false, false);
        }
    }

    static List<List<Object>> select(Tab t, java.util.function.Predicate<List<Object>> where, String... cols) {
        List<List<Object>> out = new ArrayList<>();
        for (List<Object> r : t.rows()) {
            if (!where.test(r)) continue;
            List<Object> row = new ArrayList<>();
            for (String c : cols) row.add(r.get(t.index(c)));
            out.add(row);
        }
        return out;
    }

    static double num(Object o) {
        return ((Number) o).doubleValue();
    }

    static boolean compare(Object a, String op, Object b) {
        return op.equals(">") ? num(a) > num(b) : num(a) < num(b);
    }

    static String op(String words) {
        return switch (words) {
            case "greater than", "more than", "larger than", "higher than" -> ">";
            case "less than", "smaller than", "below" -> "<";
            default -> throw new NoReading();
        };
    }

    /** Rows of {@code t} grouped by a column, in first-seen order: value -> rows. */
    static Map<Object, List<List<Object>>> groups(Tab t, String col) {
        Map<Object, List<List<Object>>> g = new LinkedHashMap<>();
        for (List<Object> r : t.rows()) g.computeIfAbsent(r.get(t.index(col)), k -> new ArrayList<>()).add(r);
        return g;
    }

    /** The values with the most rows of each (ties: all of them), as one-row answers. */
    static Answer mostCommon(Map<Object, Integer> counts) {
        int best = counts.values().stream().max(Integer::compare).orElseThrow();
        List<List<List<Object>>> each = new ArrayList<>();
        counts.forEach((k, n) -> {
            if (n == best) each.add(List.of(List.of(k)));
        });
        return Answer.anyOf(each);
    }

    /** Rows of the child table {@code t} per parent row of {@code r} (along the foreign key), parents with none left out. */
    static Map<List<Object>, Integer> childCounts(Tab t, Tab r, String fk) {
        Map<List<Object>, Integer> n = new LinkedHashMap<>();
        for (List<Object> parent : r.rows()) {
            int c = 0;
            for (List<Object> child : t.rows()) if (child.get(t.index(fk)).equals(parent.get(0))) c++;
            if (c > 0) n.put(parent, c);
        }
        return n;
    }

    static final String AGG = "(?<agg>average|maximum|minimum|total)";
    static final String CMP = "(?<op>greater than|more than|larger than|less than|smaller than|below)";

    static final List<Template> TEMPLATES = List.of(
            new Template("count", p -> Answer.one((long) p.t.rows().size()),
                    "How many <T> are there\\?", "Count the number of <T>\\.", "What is the total number of <T>\\?", "How many <T> do we have\\?",
                    "Find the number of <T>\\.", "What is the number of <T>\\?"),
            new Template("column", p -> Answer.rows(select(p.t, r -> true, p.col("c").name())),
                    "List the <C> of all <T>\\.", "What are the <C> of the <T>\\?", "Show the <C> of each <T>\\.", "Give me the <C> of every <T>\\.",
                    "Find the <C> of all <T>\\.", "Return the <C> of <T>\\."),
            new Template("two columns", p -> Answer.rows(select(p.t, r -> true, p.col("c").name(), p.col("d").name())),
                    "Show the <C> and <D> of all <T>\\.", "What are the <C> and <D> of each <T>\\?"),
            new Template("count distinct", p -> Answer.one((long) new LinkedHashSet<>(p.t.column(p.col("c").name())).size()),
                    "How many different <C> are there among the <T>\\?", "Count the number of distinct <C> of <T>\\."),
            new Template("distinct", p -> Answer.rows(new LinkedHashSet<>(p.t.column(p.col("c").name())).stream().map(v -> List.of(v)).toList()),
                    "List the distinct <C> of all <T>\\.", "What are the different <C> of the <T>\\?"),
            new Template("count per value", p -> {
                List<List<Object>> rows = new ArrayList<>();
                groups(p.t, p.col("c").name()).forEach((k, rs) -> rows.add(List.of(k, (long) rs.size())));
                return Answer.rows(rows);
            }, "Show each <C> and the number of <T> with it\\.", "How many <T> are there for each <C>\\?"),
            new Template("most common value", p -> {
                Map<Object, Integer> n = new LinkedHashMap<>();
                groups(p.t, p.col("c").name()).forEach((k, rs) -> n.put(k, rs.size()));
                return mostCommon(n);
            }, "Which <C> has the most <T>\\?", "What is the most common <C> among the <T>\\?"),
            new Template("aggregate", p -> {
                List<Object> vs = p.t.column(p.col("m").name());
                double sum = vs.stream().mapToDouble(SchemaDrillsAnswersTest::num).sum();
                return switch (p.text("agg")) {
                    case "average" -> Answer.one(sum / vs.size());
                    case "maximum" -> Answer.one(vs.stream().max(Comparator.comparingDouble(SchemaDrillsAnswersTest::num)).orElseThrow());
                    case "minimum" -> Answer.one(vs.stream().min(Comparator.comparingDouble(SchemaDrillsAnswersTest::num)).orElseThrow());
                    default -> Answer.one(sum);
                };
            }, "What is the " + AGG + " <M> of all <T>\\?", "Find the " + AGG + " <M> of the <T>\\.", "Return the " + AGG + " <M> of <T>\\."),
            new Template("maximum and minimum", p -> {
                List<Object> vs = p.t.column(p.col("m").name());
                Comparator<Object> by = Comparator.comparingDouble(SchemaDrillsAnswersTest::num);
                return Answer.one(vs.stream().max(by).orElseThrow(), vs.stream().min(by).orElseThrow());
            }, "What are the maximum and minimum <M> of <T>\\?"),
            new Template("ordered", p -> {
                boolean desc = p.has("dirx") || p.text("dir").contains("descending");
                int m = p.t.index(p.col("m").name()), c = p.t.index(p.col("c").name());
                List<List<Object>> rows = new ArrayList<>(p.t.rows());
                rows.sort(Comparator.comparingDouble(r -> (desc ? -1 : 1) * num(r.get(m))));
                return Answer.inOrder(rows.stream().map(r -> List.of(r.get(c))).toList());
            }, "List the <C> of all <T> (?<dir>in descending order of) <M>\\.", "Show the <C> of <T> (?<dir>sorted by) <M> (?<dirx>from highest to lowest)\\.",
                    "List the <C> of all <T> (?<dir>ordered by) <M>\\.", "Show the <C> of <T> (?<dir>in ascending order of) <M>\\."),
            new Template("superlative", p -> {
                boolean high = List.of("highest", "largest", "most").contains(p.text("sup"));
                int m = p.t.index(p.col("m").name()), c = p.t.index(p.col("c").name());
                double best = p.t.rows().stream().mapToDouble(r -> (high ? 1 : -1) * num(r.get(m))).max().orElseThrow();
                return Answer.anyOf(p.t.rows().stream().filter(r -> (high ? 1 : -1) * num(r.get(m)) == best).map(r -> List.of(List.of(r.get(c)))).toList());
            }, "What is the <C> of the <T> with the (?<sup>highest|largest|most|lowest|smallest|least) <M>\\?"),
            new Template("count where number", p -> {
                Col m = p.col("m");
                Object v = p.value(p.t, m, "v");
                return Answer.one((long) select(p.t, r -> compare(r.get(p.t.index(m.name())), op(p.text("op")), v)).size());
            }, "How many <T> have a <M> " + CMP + " <V>\\?", "Count the <T> whose <M> is " + CMP + " <V>\\."),
            new Template("column where number", p -> {
                Col m = p.col("m");
                Object v = p.value(p.t, m, "v");
                return Answer.rows(select(p.t, r -> compare(r.get(p.t.index(m.name())), op(p.text("op")), v), p.col("c").name()));
            }, "Find the <C> of the <T> whose <M> is " + CMP + " <V>\\."),
            new Template("column where text", p -> {
                Col d = p.col("d");
                Object v = p.value(p.t, d, "v");
                return Answer.rows(select(p.t, r -> r.get(p.t.index(d.name())).equals(v), p.col("c").name()));
            }, "What is the <C> of the <T> whose <D> is <V>\\?", "Find the <C> of <T> with <D> <V>\\.", "Show the <C> of the <T> that have <D> <V>\\."),
            new Template("count where text", p -> {
                Col d = p.col("d");
                Object v = p.value(p.t, d, "v");
                return Answer.one((long) select(p.t, r -> r.get(p.t.index(d.name())).equals(v)).size());
            }, "How many <T> have <D> <V>\\?", "Count the number of <T> whose <D> is <V>\\."),
            new Template("join columns", p -> {
                Tab r = p.ref();
                String fk = p.fkTo(r);
                int c = p.t.index(p.col("c").name()), rc = r.index(p.col(r, "rc").name());
                List<List<Object>> rows = new ArrayList<>();
                for (List<Object> x : p.t.rows()) for (List<Object> y : r.rows()) if (x.get(p.t.index(fk)).equals(y.get(0))) rows.add(List.of(x.get(c), y.get(rc)));
                return Answer.rows(rows);
            }, "Show the <C> of each <T> and the <RC> of its <R>\\.", "For each <T>, list its <C> and the <RC> of the <R>\\."),
            new Template("join where text", p -> {
                Tab r = p.ref();
                String fk = p.fkTo(r);
                Col rc = p.col(r, "rc");
                Object v = p.value(r, rc, "v");
                int c = p.t.index(p.col("c").name());
                List<List<Object>> rows = new ArrayList<>();
                for (List<Object> x : p.t.rows()) {
                    for (List<Object> y : r.rows()) if (x.get(p.t.index(fk)).equals(y.get(0)) && y.get(r.index(rc.name())).equals(v)) rows.add(List.of(x.get(c)));
                }
                return Answer.rows(rows);
            }, "Find the <C> of the <T> whose <R> has <RC> <V>\\.", "What are the <C> of <T> of the <R> with <RC> <V>\\?"),
            new Template("join count per parent", p -> {
                Tab r = p.ref();
                int rc = r.index(p.col(r, "rc").name());
                List<List<Object>> rows = new ArrayList<>();
                childCounts(p.t, r, p.fkTo(r)).forEach((parent, n) -> rows.add(List.of(parent.get(rc), (long) n)));
                return Answer.rows(rows);
            }, "How many <T> does each <R> have\\? Show the <RC> too\\.", "Show the <RC> of each <R> and the number of <T> it has\\."),
            new Template("join parent with the most", p -> {
                Tab r = p.ref();
                int rc = r.index(p.col(r, "rc").name());
                Map<Object, Integer> n = new LinkedHashMap<>();
                childCounts(p.t, r, p.fkTo(r)).forEach((parent, k) -> n.put(parent.get(rc), k));
                return mostCommon(n);
            }, "What is the <RC> of the <R> with the most <T>\\?"),
            // compound drills
            new Template("values of two or more", p -> {
                List<List<Object>> rows = new ArrayList<>();
                groups(p.t, p.col("c").name()).forEach((k, rs) -> {
                    if (rs.size() >= 2) rows.add(List.of(k));
                });
                return Answer.rows(rows);
            }, "Which <C> have at least two <T>\\?", "Show the <C> that more than one <T> has\\."),
            new Template("above the average", p -> {
                int m = p.t.index(p.col("m").name());
                double avg = p.t.rows().stream().mapToDouble(r -> num(r.get(m))).average().orElseThrow();
                return Answer.rows(select(p.t, r -> num(r.get(m)) > avg, p.col("c").name()));
            }, "List the <C> of the <T> whose <M> is above the average\\.", "Which <T> have a <M> higher than the average <M2>\\? Give their <C>\\."),
            new Template("top k", p -> {
                int k = Integer.parseInt(p.text("k")), m = p.t.index(p.col("m").name()), c = p.t.index(p.col("c").name());
                List<List<Object>> rows = new ArrayList<>(p.t.rows());
                rows.sort(Comparator.comparingDouble(r -> -num(r.get(m))));
                return Answer.inOrder(rows.subList(0, Math.min(k, rows.size())).stream().map(r -> List.of(r.get(c))).toList());
            }, "List the <C> of the (?<k>\\d+) <T> with the (?:highest|largest) <M>\\."),
            new Template("average per value", p -> {
                int m = p.t.index(p.col("m").name());
                List<List<Object>> rows = new ArrayList<>();
                groups(p.t, p.col("c").name()).forEach((k, rs) -> rows.add(List.of(k, rs.stream().mapToDouble(r -> num(r.get(m))).average().orElseThrow())));
                return Answer.rows(rows);
            }, "What is the average <M> of <T> for each <C>\\?", "Show each <C> and the average <M> of its <T>\\."),
            new Template("count where text and number", p -> {
                Col d = p.col("d"), m = p.col("m");
                Object dv = p.value(p.t, d, "v"), v = p.value(p.t, m, "n");
                return Answer.one((long) select(p.t, r -> r.get(p.t.index(d.name())).equals(dv) && num(r.get(p.t.index(m.name()))) > num(v)).size());
            }, "How many <T> have <D> <V> and a <M> greater than (?<n>\\d+)\\?"),
            new Template("either value", p -> {
                Col d = p.col("d");
                Object a = p.value(p.t, d, "a"), b = p.value(p.t, d, "b");
                int i = p.t.index(d.name());
                return Answer.rows(select(p.t, r -> r.get(i).equals(a) || r.get(i).equals(b), p.col("c").name()));
            }, "Find the <C> of the <T> whose <D> is either (?<a>.+?) or (?<b>.+?)\\."),
            // "Which cities have no teams?": T is the referenced table, R the one whose foreign key points at it
            new Template("rows without references", p -> {
                Tab child = referencing(p);
                int rc = p.t.index(p.col("rc").name());
                Set<Object> used = new java.util.HashSet<>(child.column(fkOf(child, p.t)));
                return Answer.rows(select(p.t, r -> !used.contains(r.get(0)), p.t.cols().get(rc).name()));
            }, "Which <T> have no <R>\\? Give their <RC>\\.", "Find the <RC> of the <T> that do not have any <R>\\."),
            new Template("count rows without references", p -> {
                Tab child = referencing(p);
                Set<Object> used = new java.util.HashSet<>(child.column(fkOf(child, p.t)));
                return Answer.one((long) select(p.t, r -> !used.contains(r.get(0))).size());
            }, "How many <T> have no <R>\\?"),
            new Template("rows with two or more references", p -> {
                Tab child = referencing(p);
                int rc = p.t.index(p.col("rc").name());
                List<List<Object>> rows = new ArrayList<>();
                childCounts(child, p.t, fkOf(child, p.t)).forEach((row, n) -> {
                    if (n >= 2) rows.add(List.of(row.get(rc)));
                });
                return Answer.rows(rows);
            }, "Find the <RC> of the <T> that have at least two <R>\\.", "Which <T> have two or more <R>\\? Show their <RC>\\."));

    /** The table R of a question about T's rows that R's rows reference. */
    static Tab referencing(Parts p) {
        Tab child = table(p.text("r"));
        if (child == null || !child.fks().containsValue(p.t.name())) throw new NoReading();
        return child;
    }

    static String fkOf(Tab child, Tab parent) {
        return child.fks().entrySet().stream().filter(e -> e.getValue().equals(parent.name())).findFirst().orElseThrow().getKey();
    }

    /** Every reading of {@code q} that the templates give (a template counts once, whichever phrasing). */
    static Map<String, Answer> readings(String q) {
        Map<String, Answer> out = new LinkedHashMap<>();
        for (Template t : TEMPLATES) {
            for (Pattern p : t.phrasings()) {
                Matcher m = p.matcher(q);
                if (!m.matches()) continue;
                try {
                    Parts parts = new Parts(m);
                    if (parts.has("m2") && !parts.col("m").equals(parts.col("m2"))) throw new NoReading();
                    out.put(t.name(), t.meaning().apply(parts));
                } catch (NoReading | IllegalArgumentException e) {
                    // not this template
                }
            }
        }
        return out;
    }

    @Test
    void everyDrillReturnsTheAnswerToItsQuestion(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("league.sqlite");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            for (Tab t : TABLES) {
                List<String> defs = new ArrayList<>();
                for (Col col : t.cols()) {
                    String def = col.name() + (col.number() ? " INTEGER" : " TEXT");
                    if (col == t.cols().get(0)) def += " PRIMARY KEY";
                    if (t.fks().containsKey(col.name())) def += " REFERENCES " + t.fks().get(col.name()) + "(" + t.fks().get(col.name()) + "_id)";
                    defs.add(def);
                }
                st.execute("CREATE TABLE " + t.name() + " (" + String.join(", ", defs) + ")");
                for (List<Object> r : t.rows()) {
                    st.execute("INSERT INTO " + t.name() + " VALUES (" + String.join(", ",
                            r.stream().map(v -> v instanceof String s ? "'" + s + "'" : v.toString()).toList()) + ")");
                }
            }
        }
        Set<String> seen = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        int drills = 0;
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            Schema schema = db.schema();
            List<TextToSqlExample> all = new ArrayList<>(SchemaDrills.forSchema("league", schema, SchemaDrills.databaseValues(db)));
            all.addAll(SchemaDrills.compoundForSchema("league", schema, SchemaDrills.databaseValues(db)));
            for (TextToSqlExample e : all) {
                drills++;
                Map<String, Answer> r = readings(e.question());
                if (r.size() != 1) {
                    problems.add((r.isEmpty() ? "no template reads " : "several templates " + r.keySet() + " read ") + e);
                    continue;
                }
                String template = r.keySet().iterator().next();
                seen.add(template);
                List<List<Object>> got = db.query(e.sql()).rows();
                Answer want = r.get(template);
                if (!want.matches(got)) problems.add(template + ": " + e + "\n    returned " + got + ", the question asks for " + want.accepted());
            }
        }
        assertEquals(List.of(), problems, problems.size() + " of " + drills + " drills");
        Set<String> all = new TreeSet<>();
        TEMPLATES.forEach(t -> all.add(t.name()));
        assertEquals(all, seen, "every template occurs among this database's drills");
        assertTrue(drills >= 60, drills + " drills");
    }

    // ------------------------------------------------------------------------------------------ comparing rows

    static boolean same(List<List<Object>> want, List<List<Object>> got, boolean ordered) {
        if (want.size() != got.size()) return false;
        List<String> a = new ArrayList<>(), b = new ArrayList<>();
        for (List<Object> r : want) a.add(key(r));
        for (List<Object> r : got) b.add(key(r));
        if (!ordered) {
            a.sort(null);
            b.sort(null);
        }
        return a.equals(b);
    }

    /** A row as text, numbers as doubles rounded to 9 significant digits (SQLite's avg is a double, Java's sums too). */
    static String key(List<Object> row) {
        List<String> out = new ArrayList<>();
        for (Object v : row) out.add(v instanceof Number n ? String.format(java.util.Locale.ROOT, "%.9g", n.doubleValue()) : String.valueOf(v));
        return out.toString();
    }

    static {
        // the hand-made rows must be what the schema says: ids first, foreign keys pointing at existing rows
        Map<String, Tab> byName = new HashMap<>();
        TABLES.forEach(t -> byName.put(t.name(), t));
        for (Tab t : TABLES) {
            for (List<Object> r : t.rows()) {
                if (r.size() != t.cols().size()) throw new AssertionError(t.name() + " row " + r);
                t.fks().forEach((col, ref) -> {
                    if (!byName.get(ref).column(ref + "_id").contains(r.get(t.index(col)))) throw new AssertionError(t.name() + " row " + r);
                });
            }
        }
    }
}
