package dev.gpt4j.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.relational.ComparisonOperator;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.GreaterThan;
import net.sf.jsqlparser.expression.operators.relational.MinorThan;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * A WikiSQL logical form: select column index, aggregate index into {@link #AGGREGATES}, and conditions
 * (column index, operator index into {@link #OPERATORS}, value as text). It renders to SQL ({@link #toSql})
 * and is read back from SQL ({@link #parse}) for scoring.
 */
public record LogicalForm(int sel, int agg, List<Condition> conds) {
    /** WikiSQL's aggregate names; index 0 is "no aggregate". */
    public static final List<String> AGGREGATES = List.of("", "MAX", "MIN", "COUNT", "SUM", "AVG");
    /** WikiSQL's operators; index 3 ("OP") is a placeholder the data never uses. */
    public static final List<String> OPERATORS = List.of("=", ">", "<", "OP");

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?");

    /** One condition: {@code header[column] OPERATORS[op] value}. */
    public record Condition(int column, int op, String value) {
        /** The form the official comparison uses: (column, op, lower-cased value). */
        String key() {
            return column + "\u0000" + op + "\u0000" + value.toLowerCase(Locale.ROOT);
        }
    }

    public LogicalForm {
        conds = List.copyOf(conds);
        if (agg < 0 || agg >= AGGREGATES.size()) {
            throw new IllegalArgumentException("aggregate index " + agg + " is not in 0.." + (AGGREGATES.size() - 1));
        }
        for (Condition c : conds) {
            if (c.op() < 0 || c.op() > 2) {
                throw new IllegalArgumentException("operator index " + c.op() + " is not one of 0 (=), 1 (>), 2 (<)");
            }
        }
    }

    /** The official accuracy test: same select column, same aggregate, same set of conditions (values lower-cased). */
    public boolean matches(LogicalForm other) {
        return other != null && sel == other.sel && agg == other.agg && sameConditions(other);
    }

    /** Whether the condition sets are equal (values compared lower-case). */
    public boolean sameConditions(LogicalForm other) {
        return other != null && conditionKeys().equals(other.conditionKeys());
    }

    private Set<String> conditionKeys() {
        Set<String> keys = new HashSet<>();
        for (Condition c : conds) {
            keys.add(c.key());
        }
        return keys;
    }

    /**
     * SQL for this form over {@code table}: identifiers always double-quoted, string values as {@code '...'}
     * literals; a value is written as a number when it is one and the column is {@code real} or the operator
     * is {@code <}/{@code >}.
     */
    public String toSql(WikiSqlTable table) {
        StringBuilder sb = new StringBuilder("SELECT ");
        String col = Identifiers.quote(columnName(table, sel));
        sb.append(agg == 0 ? col : AGGREGATES.get(agg) + "(" + col + ")");
        sb.append(" FROM ").append(table.sqlName());
        for (int i = 0; i < conds.size(); i++) {
            Condition c = conds.get(i);
            sb.append(i == 0 ? " WHERE " : " AND ");
            sb.append(Identifiers.quote(columnName(table, c.column()))).append(' ').append(OPERATORS.get(c.op())).append(' ');
            boolean numeric = NUMBER.matcher(c.value()).matches()
                    && ("real".equals(table.type(c.column())) || c.op() != 0);
            sb.append(numeric ? c.value() : Identifiers.stringLiteral(c.value()));
        }
        return sb.toString();
    }

    private static String columnName(WikiSqlTable table, int i) {
        if (i < 0 || i >= table.header().size()) {
            throw new IllegalArgumentException("column index " + i + " is outside table " + table.id()
                    + " (" + table.header().size() + " columns)");
        }
        return table.header().get(i);
    }

    /**
     * Reads SQL back into a logical form over {@code table}: one select item (a column, or MAX/MIN/COUNT/SUM/AVG
     * of one), any FROM, and a WHERE that is an AND of {@code column =|>|< literal}. Anything else is an
     * {@link IllegalArgumentException} saying why (for scoring: the prediction is wrong).
     */
    public static LogicalForm parse(String sql, WikiSqlTable table) {
        // JSqlParser splits quoted names at dots ("No." becomes "No" + ""), so quoted identifiers are replaced
        // by placeholders before parsing and looked up afterwards.
        Map<String, String> quoted = new HashMap<>();
        String text = SqlText.normalizeSpace(sql);
        StringBuilder masked = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int j = SqlText.skipToken(text, i);
            char c = text.charAt(i);
            if (j > i && (c == '"' || c == '`' || c == '[')) {
                String key = "gpt4j_quoted_" + quoted.size();
                quoted.put(key, Identifiers.unquote(text.substring(i, j)));
                masked.append(key);
                i = j;
            } else if (j > i) {
                masked.append(text, i, j);
                i = j;
            } else {
                masked.append(c);
                i++;
            }
        }
        Statement st;
        try {
            st = SqlParsing.parse(masked.toString());
        } catch (JSQLParserException | RuntimeException e) {
            throw new IllegalArgumentException("does not parse: " + SqlParsing.firstLine(e));
        }
        if (!(st instanceof PlainSelect ps)) {
            throw new IllegalArgumentException("not a simple SELECT");
        }
        if (ps.getSelectItems().size() != 1) {
            throw new IllegalArgumentException("selects " + ps.getSelectItems().size() + " items, WikiSQL selects one");
        }
        if (ps.getGroupBy() != null || ps.getHaving() != null || ps.getOrderByElements() != null || ps.getLimit() != null
                || ps.getJoins() != null || ps.getDistinct() != null) {
            throw new IllegalArgumentException("uses a clause WikiSQL has no form for (GROUP BY, HAVING, ORDER BY, LIMIT, JOIN or DISTINCT)");
        }
        SelectItem<?> item = ps.getSelectItems().get(0);
        Expression e = item.getExpression();
        int agg = 0;
        if (e instanceof Function f) {
            agg = AGGREGATES.indexOf(f.getName().toUpperCase(Locale.ROOT));
            if (agg <= 0) {
                throw new IllegalArgumentException("function " + f.getName() + " is not a WikiSQL aggregate");
            }
            if (f.getParameters() == null || f.getParameters().size() != 1 || f.isDistinct()) {
                throw new IllegalArgumentException(f.getName() + " must take exactly one column");
            }
            e = (Expression) f.getParameters().get(0);
        }
        int sel = columnIndex(e, table, quoted);
        List<Condition> conds = new ArrayList<>();
        if (ps.getWhere() != null) {
            List<Expression> parts = new ArrayList<>();
            flattenAnd(ps.getWhere(), parts);
            for (Expression part : parts) {
                int op;
                if (part instanceof EqualsTo) {
                    op = 0;
                } else if (part instanceof GreaterThan) {
                    op = 1;
                } else if (part instanceof MinorThan) {
                    op = 2;
                } else {
                    throw new IllegalArgumentException("condition " + part + " is not column =, > or < value");
                }
                ComparisonOperator cmp = (ComparisonOperator) part;
                conds.add(new Condition(columnIndex(cmp.getLeftExpression(), table, quoted), op, literal(cmp.getRightExpression())));
            }
        }
        return new LogicalForm(sel, agg, conds);
    }

    private static void flattenAnd(Expression e, List<Expression> out) {
        while (e instanceof ParenthesedExpressionList<?> p && p.size() == 1) {
            e = (Expression) p.get(0);
        }
        if (e instanceof AndExpression and) {
            flattenAnd(and.getLeftExpression(), out);
            flattenAnd(and.getRightExpression(), out);
        } else {
            out.add(e);
        }
    }

    private static int columnIndex(Expression e, WikiSqlTable table, Map<String, String> quoted) {
        if (!(e instanceof Column c)) {
            throw new IllegalArgumentException(e + " is not a column");
        }
        String name = c.getColumnName();
        if (quoted.containsKey(name)) {
            name = quoted.get(name);
        }
        List<String> header = table.header();
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).equals(name)) {
                return i;
            }
        }
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).equalsIgnoreCase(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("column " + name + " is not in table " + table.id());
    }

    private static String literal(Expression e) {
        if (e instanceof StringValue s) {
            return s.getValue().replace("''", "'");
        }
        if (e instanceof LongValue || e instanceof DoubleValue || e instanceof SignedExpression) {
            return e.toString().replace(" ", "");
        }
        throw new IllegalArgumentException(e + " is not a literal value");
    }

    /** Python's {@code str()} of a JSON number, which is what the official comparison lower-cases. */
    static String pythonNumber(com.fasterxml.jackson.databind.JsonNode n) {
        if (n.isIntegralNumber()) {
            return n.bigIntegerValue().toString();
        }
        double d = n.asDouble();
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e16) {
            return String.format(Locale.ROOT, "%.1f", d);
        }
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mantissa = s.substring(0, e).replaceFirst("\\.0$", "");
        int exp = Integer.parseInt(s.substring(e + 1));
        return mantissa + "e" + (exp < 0 ? "-" : "+") + String.format(Locale.ROOT, "%02d", Math.abs(exp));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("sel=" + sel + " agg=" + AGGREGATES.get(agg));
        for (Condition c : conds) {
            sb.append(" [").append(c.column()).append(' ').append(OPERATORS.get(c.op())).append(' ').append(c.value()).append(']');
        }
        return sb.toString();
    }
}
