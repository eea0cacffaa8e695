package dev.gpt4j.sql;

import dev.gpt4j.data.SqlParsing;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.operators.relational.Between;
import net.sf.jsqlparser.expression.operators.relational.ComparisonOperator;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.LikeExpression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperationList;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The last check before a query may end: its names, as the guard's parser (JSqlParser) reads the query, resolved
 * against the schema SELECT by SELECT, as SQLite resolves them. {@link SqlScanner} reads names one at a time and
 * cannot see every way a query can be read (a keyword JSqlParser takes for a column, {@code FROM t.c} read as a
 * table of schema t, a column of a sub-query's table used outside it); this is the constraint's promise, checked on
 * the whole query: it names only the schema's tables, and every column resolves to a table in scope.
 *
 * <ul>
 * <li>a table after FROM or JOIN is one of the schema's, without a schema name or alias columns; a sub-query in
 *     FROM sees the tables of the SELECTs around its own SELECT, not of its own;</li>
 * <li>a qualified column's qualifier is an alias, or the name of an unaliased table, of its SELECT or one around it,
 *     and the column is that table's (a sub-query's alias may qualify any name);</li>
 * <li>a bare column is a column of one table of the innermost SELECT around it that has such a column (two make it
 *     ambiguous), or one of its SELECT's result aliases (outside the SELECT list), or TRUE or FALSE; a double-quoted name that resolves to nothing is a string (SQLite's reading; Spider
 *     writes values so) only where the constraint takes a value: on the right of a comparison, LIKE, IN or BETWEEN;</li>
 * <li>a function is one of {@link SqlScanner#FUNCTIONS}; a compound SELECT's ORDER BY names a result column of its
 *     first SELECT.</li>
 * </ul>
 */
final class QueryNames {
    private final SchemaNames names;
    /** The quoted names that {@link #withoutDots} replaced, by their stand-in. */
    private final Map<String, String> standIns;
    /** The result columns of the sub-queries in FROM, by the stand-in table name their scope gives them. */
    private final Map<String, Set<String>> derived = new HashMap<>();
    private String problem;

    private QueryNames(SchemaNames names, Map<String, String> standIns) {
        this.names = names;
        this.standIns = standIns;
    }

    /**
     * The first name of {@code sql} (one query the guard took) that does not resolve, said in a few words; null if
     * all do.
     */
    static String unresolved(String sql, SchemaNames names) {
        Map<String, String> standIns = new HashMap<>();
        Statement parsed;
        try {
            parsed = SqlParsing.parse(withoutDots(sql, standIns));
        } catch (JSQLParserException | RuntimeException e) {
            return "does not parse";
        }
        if (!(parsed instanceof Select query)) return "no query";
        if (query.getWithItemsList() != null && !query.getWithItemsList().isEmpty()) return "WITH";
        QueryNames q = new QueryNames(names, standIns);
        q.select(query, null);
        return q.problem;
    }

    /**
     * The SQL with each quoted name that holds a "." written as a stand-in ({@code "\u00b71"}, ...): JSqlParser splits
     * {@code "No."} and {@code `a.b`} at the dot, and WikiSQL's columns are often so ({@code "No. in series"}).
     */
    static String withoutDots(String sql, Map<String, String> standIns) {
        StringBuilder out = new StringBuilder(sql.length());
        int n = sql.length();
        for (int i = 0; i < n; ) {
            char c = sql.charAt(i);
            int j = i + 1;
            if (c == '\'' || c == '"' || c == '`') {
                while (j < n && !(sql.charAt(j) == c && !(j + 1 < n && sql.charAt(j + 1) == c))) j += sql.charAt(j) == c ? 2 : 1;
                j = Math.min(n, j + 1);
            } else if (c == '[') {
                int k = sql.indexOf(']', i + 1);
                j = k < 0 ? n : k + 1;
            }
            String piece = sql.substring(i, j);
            if (c != '\'' && piece.length() > 1 && piece.indexOf('.') >= 0) {
                String standIn = "\u00b7" + standIns.size();
                standIns.put(standIn, piece);
                out.append('"').append(standIn).append('"');
            } else out.append(piece);
            i = j;
        }
        return out.toString();
    }

    private void fail(String what) {
        if (problem == null) problem = what;
    }

    /**
     * One SELECT's names: its tables by what may qualify them (a sub-query in FROM by a stand-in, see
     * {@link #derived}; null: one whose columns are not known, any column), and its result names ({@code star}: it
     * also has all the columns of its tables).
     */
    private static final class Scope {
        final Scope outer;
        final Map<String, String> tables = new HashMap<>();
        final Set<String> resultAliases = new HashSet<>(), resultNames = new HashSet<>();
        boolean star;

        Scope(Scope outer) {
            this.outer = outer;
        }
    }

    private Scope select(Select s, Scope outer) {
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
                    // SQLite: "ORDER BY term does not match any column in the result set"
                    if (!(o.getExpression() instanceof Column c && c.getTable() == null && first != null
                            && first.resultNames.contains(unquote(c.getColumnName())))) fail("a compound ORDER BY " + o);
                }
            }
            return first == null ? new Scope(outer) : first;
        }
        fail(s.getClass().getSimpleName());
        return new Scope(outer);
    }

    private Scope plain(PlainSelect p, Scope outer) {
        Scope sc = new Scope(outer);
        if (p.getFromItem() == null) fail("a SELECT without FROM");
        from(p.getFromItem(), sc);
        if (p.getJoins() != null) {
            for (Join j : p.getJoins()) from(j.getRightItem(), sc);
            for (Join j : p.getJoins()) {
                if (j.getOnExpressions() != null) for (Expression e : j.getOnExpressions()) expression(e, sc);
                if (j.getUsingColumns() != null) for (Column c : j.getUsingColumns()) if (!resolves(c, sc)) fail("USING " + c);
            }
        }
        for (SelectItem<?> item : p.getSelectItems()) {
            expression(item.getExpression(), sc);
            if (item.getAlias() != null) sc.resultNames.add(unquote(item.getAlias().getName()));
            else if (item.getExpression() instanceof Column c) sc.resultNames.add(unquote(c.getColumnName()));
            else if (item.getExpression() instanceof net.sf.jsqlparser.statement.select.AllColumns) sc.star = true;
        }
        // result aliases name values from here on (SQLite takes them in WHERE too), not in the SELECT list itself
        for (SelectItem<?> item : p.getSelectItems()) if (item.getAlias() != null) sc.resultAliases.add(unquote(item.getAlias().getName()));
        expression(p.getWhere(), sc);
        if (p.getGroupBy() != null && p.getGroupBy().getGroupByExpressionList() != null) {
            for (Expression e : p.getGroupBy().getGroupByExpressionList()) expression(e, sc);
        }
        expression(p.getHaving(), sc);
        if (p.getOrderByElements() != null) for (OrderByElement o : p.getOrderByElements()) expression(o.getExpression(), sc);
        return sc;
    }

    private void from(FromItem f, Scope sc) {
        if (f == null) return;
        if (f instanceof Table t) {
            String name = unquote(t.getName());
            if (t.getSchemaName() != null) fail("a table with a schema: " + t);
            else if (!names.tables().contains(name)) fail("no table " + name);
            String q = t.getAlias() == null ? name : unquote(t.getAlias().getName());
            if (t.getAlias() != null && t.getAlias().getAliasColumns() != null && !t.getAlias().getAliasColumns().isEmpty()) {
                fail("an alias with columns: " + t.getAlias());
            }
            if (sc.tables.put(q, name) != null) fail("two tables called " + q); // ambiguous to SQLite
        } else if (f instanceof ParenthesedSelect ps) {
            Scope inner = select(ps.getSelect(), sc.outer); // not lateral: it sees no table of this SELECT
            // its columns are its result names ("FROM (SELECT avg(age) FROM dogs)" has no column age), unless it has a *
            String standIn = null;
            if (!inner.star) {
                standIn = "(" + derived.size();
                derived.put(standIn, inner.resultNames);
            }
            sc.tables.put(ps.getAlias() == null ? "(" + sc.tables.size() : unquote(ps.getAlias().getName()), standIn);
        } else if (f instanceof ParenthesedFromItem pf) {
            from(pf.getFromItem(), sc);
            if (pf.getJoins() != null) {
                for (Join j : pf.getJoins()) from(j.getRightItem(), sc);
                for (Join j : pf.getJoins()) if (j.getOnExpressions() != null) for (Expression e : j.getOnExpressions()) expression(e, sc);
            }
        } else fail("FROM " + f.getClass().getSimpleName());
    }

    private void expression(Expression e, Scope sc) {
        if (e != null && problem == null) e.accept(new Names(sc), null);
    }

    private boolean resolves(Column c, Scope sc) {
        String name = unquote(c.getColumnName());
        if (c.getTable() != null && c.getTable().getName() != null) {
            if (c.getTable().getSchemaName() != null) return false;
            String q = unquote(c.getTable().getName());
            for (Scope s = sc; s != null; s = s.outer) {
                if (s.tables.containsKey(q)) {
                    String t = s.tables.get(q);
                    return t == null || columnsOf(t).contains(name);
                }
            }
            return false;
        }
        if (sc.resultAliases.contains(name)) return true;
        // the innermost SELECT with a table that has it; two such tables there make it ambiguous (SQLite refuses it)
        for (Scope s = sc; s != null; s = s.outer) {
            int found = 0;
            for (String t : s.tables.values()) if (t == null || columnsOf(t).contains(name)) found++;
            if (found > 0) return found == 1;
        }
        return false;
    }

    /** A table's columns: the schema's, or a sub-query's result names. */
    private Set<String> columnsOf(String table) {
        Set<String> c = names.columnsOf().get(table);
        return c != null ? c : derived.getOrDefault(table, Set.of());
    }

    /** A double-quoted name that resolves to nothing: SQLite reads it as a string. */
    private boolean quotedValue(Expression e, Scope sc) {
        return e instanceof Column c && c.getTable() == null && c.getColumnName().startsWith("\"") && !resolves(c, sc);
    }


    /** SQLite's comparison of names: without quotes, ignoring case (a stand-in for its name). */
    private String unquote(String name) {
        String n = name;
        if (n.startsWith("\"\u00b7") && standIns.containsKey(n.substring(1, n.length() - 1))) n = standIns.get(n.substring(1, n.length() - 1));
        if (n.length() >= 2 && (n.charAt(0) == '"' && n.endsWith("\"") || n.charAt(0) == '`' && n.endsWith("`")
                || n.charAt(0) == '[' && n.endsWith("]"))) {
            n = n.substring(1, n.length() - 1);
        }
        return n.toLowerCase(Locale.ROOT);
    }

    /** The names of one expression, in one SELECT's scope. */
    private final class Names extends ExpressionVisitorAdapter<Void> {
        private final Scope sc;

        Names(Scope sc) {
            this.sc = sc;
        }

        @Override
        public <S> Void visit(Column c, S context) {
            String name = unquote(c.getColumnName());
            if (c.getTable() == null && (name.equals("true") || name.equals("false"))) return null;
            if (!resolves(c, sc)) fail("no column " + c);
            return null;
        }

        @Override
        public <S> Void visit(AllTableColumns all, S context) {
            String q = unquote(all.getTable().getName());
            for (Scope s = sc; s != null; s = s.outer) if (s.tables.containsKey(q)) return null;
            fail("no table " + all);
            return null;
        }

        // YEAR, MONTH, DAY, ...: a date unit to JSqlParser, a column to SQLite ("SELECT year FROM t")
        @Override
        public <S> Void visit(net.sf.jsqlparser.expression.DateUnitExpression unit, S context) {
            return visit(new Column(unit.toString()), context);
        }

        // JSqlParser's DATE 'x', TIME 'x', TIMESTAMP 'x' literals are no SQLite: it reads a column "date" there
        @Override
        public <S> Void visit(net.sf.jsqlparser.expression.DateValue d, S context) {
            fail("a DATE literal");
            return null;
        }

        @Override
        public <S> Void visit(net.sf.jsqlparser.expression.TimeValue t, S context) {
            fail("a TIME literal");
            return null;
        }

        @Override
        public <S> Void visit(net.sf.jsqlparser.expression.TimestampValue t, S context) {
            fail("a TIMESTAMP literal");
            return null;
        }

        @Override
        public <S> Void visit(Function f, S context) {
            if (f.getName() == null || !SqlScanner.FUNCTIONS.contains(f.getName().toLowerCase(Locale.ROOT))) fail("no function " + f.getName());
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
            if ((b instanceof ComparisonOperator || b instanceof LikeExpression) && quotedValue(b.getRightExpression(), sc)) {
                b.getLeftExpression().accept(this, context);
                return null;
            }
            return super.visitBinaryExpression(b, context);
        }

        @Override
        public <S> Void visit(InExpression in, S context) {
            in.getLeftExpression().accept(this, context);
            if (in.getRightExpression() instanceof ExpressionList<?> list) {
                for (Expression x : list) if (!quotedValue(x, sc)) x.accept(this, context);
            } else in.getRightExpression().accept(this, context);
            return null;
        }

        @Override
        public <S> Void visit(Between b, S context) {
            b.getLeftExpression().accept(this, context);
            for (Expression x : new Expression[] {b.getBetweenExpressionStart(), b.getBetweenExpressionEnd()}) {
                if (!quotedValue(x, sc)) x.accept(this, context);
            }
            return null;
        }
    }
}
