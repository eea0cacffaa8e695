package dev.gpt4j.sql;

import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqlExecutionException;
import dev.gpt4j.data.SqlGuard;
import dev.gpt4j.data.SqliteDatabase;
import dev.gpt4j.data.Table;
import dev.gpt4j.inference.TokenConstraint;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.SpecialTokens;
import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.operators.relational.ComparisonOperator;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.LikeExpression;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperationList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The constraint's promise (README: constrained decoding gives a query that parses and names only the schema's
 * tables and columns), held against random walks: seeded, thousands of them, over several schemas (among them DDL
 * with quoted and keyword-like names), each token drawn among those the constraint allows, mostly from the pieces
 * of SQL and the schema's names and otherwise from the whole vocabulary. Every query the constraint lets end, and
 * every answer cut back to its last complete prefix (as {@link TextToSql} cuts one that runs out of tokens), must
 * pass the guard (JSqlParser), name only tables of the schema, and resolve every column to a table in scope (its
 * SELECT's or an enclosing one's), an alias or a result alias, and every function to a function SQLite has; and
 * SQLite itself must run it on an empty database of that schema.
 */
class SqlConstraintPromiseTest {
    static BpeTokenizer tok;
    static int end;

    /** A schema, as DDL, with a question for the modes that read one. */
    record Db(String name, String ddl, String question) {}

    static final List<Db> DBS = List.of(
            new Db("concerts", Fixtures.DDL + "\nCREATE TABLE \"big table\" (\"No.\" INT, \"first name\" TEXT);",
                    "How many singers from France are older than 30 in the big table?"),
            new Db("employees", readExample(), "What is the average salary of employees in the Sales department?"),
            new Db("books", "CREATE TABLE books (book_id INTEGER PRIMARY KEY, title TEXT COLLATE NOCASE, author TEXT, year INTEGER);\n"
                    + "CREATE TABLE purchases (purchase_id INTEGER PRIMARY KEY, book_id INTEGER REFERENCES books(book_id), price REAL, "
                    + "quantity INTEGER, bought_on TEXT);", "What is the total price of purchases of books by Tolkien?"),
            new Db("keywords", "CREATE TABLE \"order\" (\"select\" TEXT, \"group\" INTEGER, \"from\" TEXT, \"desc\" TEXT, count INTEGER, "
                    + "date TEXT, name TEXT, value REAL);\nCREATE TABLE \"my table\" (`first name` TEXT, [last name] TEXT, \"No.\" INTEGER, "
                    + "\"ÅLESUND\" INTEGER, \"text\" TEXT, year INTEGER);", "Which order from Ålesund has the group 3 and the name Zoë?"),
            new Db("wikisql", "CREATE TABLE \"table_1_10015132_11\" (\"Player\" TEXT, \"No.\" TEXT, \"Nationality\" TEXT, \"Position\" TEXT, "
                    + "\"Years in Toronto\" TEXT, \"School/Club Team\" TEXT);", "What is the nationality of the player from Duke who wore No. 3?"));

    static String readExample() {
        try {
            return Files.readString(Path.of("..", "examples", "employees.sql")); // tests run in the module's folder
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @BeforeAll
    static void load() {
        tok = BpeTokenizer.load(Path.of("..", "models", "gpt4j-sql"));
        end = tok.specialTokenId(BpeTokenizer.END_OF_TEXT);
        ALL = java.util.stream.IntStream.range(0, tok.vocabSize()).toArray();
        SHORT = java.util.Arrays.stream(ALL).filter(v -> tok.decodeBytes(v).length <= 2).toArray();
    }

    /**
     * The pieces walks draw from most of the time, each the tokens of a piece of SQL, as often as its weight: SQL's
     * words and signs (FROM more often, so that walks reach a table), values, and the schema's names, bare, quoted
     * three ways and qualified.
     */
    static List<int[]> pieces(Schema schema) {
        Map<String, Integer> weights = new java.util.LinkedHashMap<>();
        for (String p : List.of(" FROM", " FROM", " FROM", " WHERE", " WHERE", " =", " =", " ,", " AS", " T1", " T2", " JOIN", " ON", ".",
                " AND", " OR", " >", " <", " !=", " NOT", " IN", " LIKE", " BETWEEN", " GROUP BY", " ORDER BY", " HAVING", " LIMIT 1", " DESC",
                " ASC", " UNION", " EXCEPT", " INTERSECT", " DISTINCT", " count(*)", " count", " avg", " sum", " max", " min", " (", " )", ")",
                " *", " 'x'", " '%a%'", " \"France\"", " 3", " 2000", " text", " nocase", " COLLATE", " CAST", " integer", " real",
                " IS NULL", " EXISTS", " SELECT", " date", " length", " lower", " case", " when", " then", " end", " else", " null", " true",
                " 'Sales'", " 'Tolkien'", " 'Ålesund'", " 'Zoë'", " \"")) {
            weights.merge(p, 1, Integer::sum);
        }
        for (Table t : schema.tables()) {
            List<String> names = new ArrayList<>(List.of(t.name()));
            t.columns().forEach(c -> names.add(c.name()));
            for (String n : names) {
                for (String p : List.of(" " + n, " \"" + n + "\"", " `" + n + "`", " [" + n + "]", "." + n, " T1." + n, " " + t.name() + "." + n)) {
                    weights.merge(p, 1, Integer::sum);
                }
            }
        }
        List<int[]> out = new ArrayList<>();
        weights.forEach((p, w) -> {
            for (int k = 0; k < w; k++) out.add(tok.encode(p, SpecialTokens.PLAIN_TEXT));
        });
        return out;
    }

    /** Queries that broke the promise, by kind; and how many were checked. */
    static final class Findings {
        int checked, ended, cut;
        final Map<String, List<String>> broken = new TreeMap<>();

        void add(String kind, String sql) {
            List<String> l = broken.computeIfAbsent(kind, k -> new ArrayList<>());
            if (l.size() < 5) l.add(sql);
            else if (l.size() == 5) l.add("...");
        }
    }

    /** Walks per schema and mode. */
    static final int WALKS = Integer.getInteger("gpt4j.walks", 200);

    @Test
    void everyQueryTheConstraintLetsEndParsesAndResolves() throws Exception {
        Findings f = new Findings();
        SplittableRandom rnd = new SplittableRandom(6);
        for (Db db : DBS) {
            Schema schema = DdlSchemas.parse(db.ddl(), db.name(), db.name());
            List<int[]> pieces = pieces(schema);
            try (SqliteDatabase sqlite = SqliteDatabase.inMemory(db.name(), Duration.ofSeconds(2), 1, c -> {
                try (var st = c.createStatement()) {
                    for (String ddl : db.ddl().split(";")) if (!ddl.isBlank()) st.execute(ddl);
                }
            })) {
                for (SqlRules rules : List.of(SqlRules.CONSTRAINED, new SqlRules(true, true, false, true))) {
                    SqlConstraint c = new SqlConstraint(tok, List.of(schema), List.of(db.question()), rules);
                    for (int w = 0; w < WALKS; w++) walk(c, schema, sqlite, pieces, rnd, f);
                }
            }
        }
        System.out.printf("%,d queries checked (%,d ended, %,d cut back to a complete prefix)%n", f.checked, f.ended, f.cut);
        f.broken.forEach((k, v) -> System.out.println(k + ": " + v));
        assertTrue(f.ended > 150 && f.cut > 100, f.ended + " ended and " + f.cut + " cut: too few to test the promise");
        assertEquals(Map.of(), f.broken);
    }

    /**
     * One walk of up to 48 tokens after "SELECT" (as the model starts); its end (if the constraint let it end) and its
     * last complete prefix are checked.
     */
    static void walk(SqlConstraint c, Schema schema, SqliteDatabase sqlite, List<int[]> pieces, SplittableRandom rnd, Findings f) {
        TokenConstraint.State s = c.start(0);
        List<Integer> ids = new ArrayList<>();
        for (int v : tok.encode("SELECT", SpecialTokens.PLAIN_TEXT)) {
            ids.add(v);
            s = s.next(v);
        }
        int lastComplete = -1;
        int[] from = tok.encode(" FROM", SpecialTokens.PLAIN_TEXT);
        boolean fromSeen = false;
        while (ids.size() < 48) {
            boolean canEnd = s.allows(end);
            if (canEnd) lastComplete = ids.size();
            if (canEnd && rnd.nextInt(3) == 0) {
                f.ended++;
                check(text(ids, ids.size()), schema, sqlite, f, "ended");
                return;
            }
            // the longer the SELECT list, the likelier its FROM (allowed or not: the constraint decides)
            int[] next = !fromSeen && rnd.nextInt(8) < ids.size() && allowsAll(s, from) ? from : draw(s, pieces, rnd);
            if (next.length == 0) break;
            fromSeen |= next == from;
            for (int v : next) {
                ids.add(v);
                s = s.next(v);
            }
        }
        if (lastComplete > 0) {
            f.cut++;
            check(text(ids, lastComplete), schema, sqlite, f, "cut back");
        }
    }

    static boolean allowsAll(TokenConstraint.State s, int[] ids) {
        for (int v : ids) {
            if (!s.allows(v)) return false;
            s = s.next(v);
        }
        return true;
    }

    /**
     * What comes next (never the end): mostly the tokens of a piece, as far as the state allows them one after the
     * other; else one token of the whole vocabulary that it allows; none if it allows none.
     */
    static int[] draw(TokenConstraint.State s, List<int[]> pieces, SplittableRandom rnd) {
        int V = tok.vocabSize();
        if (rnd.nextInt(8) != 0) {
            for (int t = 0; t < 60; t++) {
                int[] p = pieces.get(rnd.nextInt(pieces.size()));
                TokenConstraint.State x = s;
                int n = 0;
                while (n < p.length && x.allows(p[n])) x = x.next(p[n++]);
                if (n > 0) return java.util.Arrays.copyOf(p, n);
            }
        }
        for (int t = 0; t < 200; t++) {
            int v = rnd.nextInt(V);
            if (v != end && s.allows(v)) return new int[] {v};
        }
        // where few tokens are allowed (the next letter of a quoted name), they are mostly short ones: those first
        for (int[] tier : new int[][] {SHORT, ALL}) {
            List<Integer> allowed = new ArrayList<>();
            for (int v : tier) if (v != end && s.allows(v)) allowed.add(v);
            if (!allowed.isEmpty()) return new int[] {allowed.get(rnd.nextInt(allowed.size()))};
        }
        return new int[0];
    }

    /** The tokens of one or two bytes, and all tokens. */
    static int[] SHORT, ALL;

    static String text(List<Integer> ids, int n) {
        return tok.decode(ids.subList(0, n).stream().mapToInt(Integer::intValue).toArray()).strip();
    }

    /** The promise for one query: the guard takes it, every name resolves, SQLite runs it. */
    static void check(String sql, Schema schema, SqliteDatabase sqlite, Findings f, String how) {
        f.checked++;
        if (!SqlGuard.check(sql).allowed()) {
            f.add(how + ": refused by the guard (" + SqlGuard.check(sql).reason() + ")", sql);
            return;
        }
        try {
            // JSqlParser splits a quoted name at a dot ("No." becomes "No"): each such name gets a stand-in
            Map<String, String> dotted = new HashMap<>();
            Statement st = CCJSqlParserUtil.parse(standIns(sql, dotted), p -> p.withSquareBracketQuotation(true));
            Resolver r = new Resolver(schema, dotted);
            r.select((Select) st, null);
            for (String p : r.problems) f.add(how + ": " + p, sql);
        } catch (Exception e) {
            f.add(how + ": JSqlParser: " + e.getClass().getSimpleName(), sql);
        }
        try {
            sqlite.queryUntrusted(sql);
        } catch (SqlExecutionException e) {
            String m = e.getMessage();
            f.add(how + ": SQLite: " + m.replaceAll("\\(.*", "").replaceAll(":.*", "").strip(), sql + "   -- " + m);
        }
    }

    /** {@code sql} with each quoted name that has a dot replaced by "dotted0", "dotted1", ... (the names go to {@code dotted}). */
    static String standIns(String sql, Map<String, String> dotted) {
        StringBuilder out = new StringBuilder();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\\[[^\\]]*\\]").matcher(sql);
        int at = 0;
        while (m.find()) {
            out.append(sql, at, m.start());
            String q = m.group();
            if (!q.startsWith("'") && q.contains(".")) {
                String standIn = "dotted" + dotted.size();
                dotted.put(standIn, q.substring(1, q.length() - 1).toLowerCase(Locale.ROOT));
                out.append('"').append(standIn).append('"');
            } else out.append(q);
            at = m.end();
        }
        return out.append(sql.substring(at)).toString();
    }

    /** Strips SQL's identifier quotes and lower-cases: how SQLite compares names. */
    static String unquote(String name) {
        if (name == null) return null;
        String n = name;
        if (n.length() >= 2 && (n.startsWith("\"") && n.endsWith("\"") || n.startsWith("`") && n.endsWith("`") || n.startsWith("[") && n.endsWith("]"))) {
            n = n.substring(1, n.length() - 1);
        }
        n = n.toLowerCase(Locale.ROOT);
        return DOTTED.get().getOrDefault(n, n);
    }

    /** The stand-ins of the query being resolved (one thread resolves one query at a time). */
    static final ThreadLocal<Map<String, String>> DOTTED = ThreadLocal.withInitial(Map::of);

    static boolean doubleQuoted(Column c) {
        return c.getTable() == null && c.getColumnName().startsWith("\"");
    }

    /**
     * Resolves a parsed query's names against the schema, SELECT by SELECT, as SQLite does: a table after FROM or
     * JOIN is the schema's; a qualifier is an alias or (unaliased) table of this SELECT or an enclosing one, and the
     * column is its table's; a bare column is a column of a table in scope, or a result alias of this SELECT; a
     * function is one SQLite has. A double-quoted name that resolves to nothing is a string (SQLite's reading) only as
     * the right side of a comparison, LIKE or IN list, where the constraint takes it as a value.
     */
    static final class Resolver {
        final Map<String, Set<String>> columnsOf = new HashMap<>();
        final List<String> problems = new ArrayList<>();

        Resolver(Schema schema, Map<String, String> dotted) {
            DOTTED.set(dotted);
            for (Table t : schema.tables()) {
                Set<String> cs = new HashSet<>();
                t.columns().forEach(c -> cs.add(c.name().toLowerCase(Locale.ROOT)));
                columnsOf.put(t.name().toLowerCase(Locale.ROOT), cs);
            }
        }

        /** A SELECT's names: the tables by what may qualify them (null: a sub-query's, any column), and its result aliases. */
        static final class Scope {
            final Scope parent;
            final Map<String, String> tables = new HashMap<>();
            final Set<String> resultAliases = new HashSet<>();
            final Set<String> outputNames = new HashSet<>();

            Scope(Scope parent) {
                this.parent = parent;
            }
        }

        /** Resolves a SELECT whose correlated names may come from {@code outer}; returns its scope. */
        Scope select(Select s, Scope outer) {
            if (s instanceof PlainSelect p) return plain(p, outer);
            if (s instanceof ParenthesedSelect ps) return select(ps.getSelect(), outer);
            if (s instanceof SetOperationList l) {
                Scope first = null;
                for (Select x : l.getSelects()) {
                    Scope sc = select(x, outer);
                    if (first == null) first = sc;
                }
                if (l.getOrderByElements() != null) {
                    for (OrderByElement o : l.getOrderByElements()) {
                        // a compound SELECT's ORDER BY names a result column of its first SELECT
                        if (!(o.getExpression() instanceof Column c) || first == null || !first.outputNames.contains(unquote(c.getColumnName()))) {
                            problems.add("ORDER BY of a compound SELECT that is no result column: " + o);
                        }
                    }
                }
                return first;
            }
            problems.add("unexpected " + s.getClass().getSimpleName());
            return new Scope(outer);
        }

        Scope plain(PlainSelect p, Scope outer) {
            Scope sc = new Scope(outer);
            if (p.getFromItem() == null) problems.add("a SELECT without FROM");
            from(p.getFromItem(), sc, outer);
            if (p.getJoins() != null) {
                for (Join j : p.getJoins()) from(j.getRightItem(), sc, outer);
                for (Join j : p.getJoins()) {
                    if (j.getOnExpressions() != null) for (Expression e : j.getOnExpressions()) expr(e, sc);
                    if (j.getUsingColumns() != null && !j.getUsingColumns().isEmpty()) problems.add("JOIN ... USING");
                }
            }
            for (SelectItem<?> item : p.getSelectItems()) {
                expr(item.getExpression(), sc);
                if (item.getAlias() != null) {
                    sc.resultAliases.add(unquote(item.getAlias().getName()));
                    sc.outputNames.add(unquote(item.getAlias().getName()));
                } else if (item.getExpression() instanceof Column c) sc.outputNames.add(unquote(c.getColumnName()));
            }
            if (p.getWhere() != null) expr(p.getWhere(), sc);
            if (p.getGroupBy() != null && p.getGroupBy().getGroupByExpressionList() != null) {
                for (Expression e : p.getGroupBy().getGroupByExpressionList()) expr(e, sc);
            }
            if (p.getHaving() != null) expr(p.getHaving(), sc);
            if (p.getOrderByElements() != null) for (OrderByElement o : p.getOrderByElements()) expr(o.getExpression(), sc);
            return sc;
        }

        void from(FromItem f, Scope sc, Scope outer) {
            if (f == null) return;
            if (f instanceof net.sf.jsqlparser.schema.Table t) {
                String name = unquote(t.getName());
                if (t.getSchemaName() != null) problems.add("a table with a schema: " + t);
                if (!columnsOf.containsKey(name)) problems.add("no such table: " + t.getName());
                if (t.getAlias() != null) {
                    if (t.getAlias().getAliasColumns() != null && !t.getAlias().getAliasColumns().isEmpty()) {
                        problems.add("an alias with columns: " + t.getAlias());
                    }
                    sc.tables.put(unquote(t.getAlias().getName()), name);
                } else sc.tables.put(name, name);
            } else if (f instanceof ParenthesedSelect ps) {
                select(ps.getSelect(), outer); // a sub-query in FROM sees no table of this SELECT
                sc.tables.put(ps.getAlias() == null ? "#" + sc.tables.size() : unquote(ps.getAlias().getName()), null);
            } else if (f instanceof ParenthesedFromItem pf) {
                from(pf.getFromItem(), sc, outer);
                if (pf.getJoins() != null) for (Join j : pf.getJoins()) from(j.getRightItem(), sc, outer);
            } else problems.add("a FROM item " + f.getClass().getSimpleName() + ": " + f);
        }

        void expr(Expression e, Scope sc) {
            if (e != null) e.accept(new Names(sc), null);
        }

        /** The table a qualifier stands for in scope ("" if none; null for a sub-query's alias). */
        static String qualified(String q, Scope sc) {
            for (Scope s = sc; s != null; s = s.parent) if (s.tables.containsKey(q)) return s.tables.get(q);
            return "";
        }

        boolean resolves(Column c, Scope sc) {
            String name = unquote(c.getColumnName());
            if (c.getTable() != null && c.getTable().getName() != null) {
                String t = qualified(unquote(c.getTable().getName()), sc);
                return t == null || !t.isEmpty() && columnsOf.get(t).contains(name);
            }
            if (sc.resultAliases.contains(name)) return true;
            for (Scope s = sc; s != null; s = s.parent) {
                for (String t : s.tables.values()) if (t == null || columnsOf.containsKey(t) && columnsOf.get(t).contains(name)) return true;
            }
            return false;
        }

        /** The names of one expression, in one SELECT's scope. */
        final class Names extends ExpressionVisitorAdapter<Void> {
            final Scope sc;

            Names(Scope sc) {
                this.sc = sc;
            }

            @Override
            public <S> Void visit(Column c, S context) {
                String name = unquote(c.getColumnName());
                if (c.getTable() == null && (name.equals("true") || name.equals("false"))) return null;
                if (!resolves(c, sc)) problems.add("no such column: " + c);
                return null;
            }

            @Override
            public <S> Void visit(Function f, S context) {
                if (!SqlScanner.FUNCTIONS.contains(f.getName().toLowerCase(Locale.ROOT))) problems.add("no such function: " + f.getName());
                return super.visit(f, context);
            }

            @Override
            public <S> Void visit(ParenthesedSelect s, S context) {
                select(s.getSelect(), sc);
                return null;
            }

            @Override
            public <S> Void visit(Select s, S context) {
                select(s, sc);
                return null;
            }

            @Override
            protected <S> Void visitBinaryExpression(BinaryExpression b, S context) {
                if ((b instanceof ComparisonOperator || b instanceof LikeExpression) && b.getRightExpression() instanceof Column c && doubleQuoted(c)
                        && !resolves(c, sc)) {
                    b.getLeftExpression().accept(this, context); // a Spider-style "value"
                    return null;
                }
                return super.visitBinaryExpression(b, context);
            }

            @Override
            public <S> Void visit(InExpression in, S context) {
                in.getLeftExpression().accept(this, context);
                if (in.getRightExpression() instanceof ExpressionList<?> list) {
                    for (Expression x : list) if (!(x instanceof Column c && doubleQuoted(c) && !resolves(c, sc))) x.accept(this, context);
                } else in.getRightExpression().accept(this, context);
                return null;
            }
        }
    }
}
