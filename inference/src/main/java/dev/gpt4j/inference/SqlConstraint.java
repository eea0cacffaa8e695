package dev.gpt4j.inference;

import dev.gpt4j.data.Column;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqlGuard;
import dev.gpt4j.data.Table;
import dev.gpt4j.tokenizer.BpeTokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Schema-constrained SQL decoding: a token may come next only if the SQL so far, with it, can still become a
 * query over the schema. Checked on the text: every complete name outside string literals must be a SQL
 * keyword or function, a table or column of the schema, or an alias ({@code T1}-style, or a name given after
 * {@code AS}, from there on); a name still being written must be the start of one; quoted names ({@code "a b"}, {@code `x`},
 * {@code [x]}) likewise; parentheses never close more than they opened. The end-of-text token is allowed only
 * when the whole SQL passes {@link SqlGuard} (one read-only statement that parses). Other special tokens are
 * never allowed.
 *
 * <p>This cuts out invented table and column names and unbalanced SQL; it does not check types or that a
 * column belongs to the table it is used with.
 */
public final class SqlConstraint implements TokenConstraint {
    private static final List<String> KEYWORDS = List.of(
            "select", "distinct", "from", "where", "group", "by", "having", "order", "asc", "desc", "limit", "offset",
            "join", "inner", "left", "right", "outer", "cross", "natural", "on", "using", "as", "and", "or", "not", "in",
            "like", "glob", "between", "is", "null", "exists", "union", "intersect", "except", "all", "case", "when",
            "then", "else", "end", "cast", "with", "values", "escape", "collate", "nocase", "true", "false", "integer",
            "text", "real", "numeric",
            // functions
            "count", "sum", "avg", "min", "max", "total", "group_concat", "lower", "upper", "length", "abs", "round",
            "substr", "substring", "instr", "replace", "trim", "ltrim", "rtrim", "coalesce", "ifnull", "iif", "nullif",
            "strftime", "date", "time", "datetime", "julianday");

    private final BpeTokenizer tokenizer;
    private final int endId;
    private final List<TreeSet<String>> names, quotable;

    /** One schema per sequence of a batch (sequence i uses {@code schemas.get(i)}). */
    public SqlConstraint(BpeTokenizer tokenizer, List<Schema> schemas) {
        this.tokenizer = tokenizer;
        this.endId = tokenizer.specialTokenId(BpeTokenizer.END_OF_TEXT);
        this.names = schemas.stream().map(SqlConstraint::names).toList();
        this.quotable = schemas.stream().map(SqlConstraint::schemaNames).toList();
    }

    /** The same schema for every sequence. */
    public SqlConstraint(BpeTokenizer tokenizer, Schema schema) {
        this(tokenizer, List.of(schema));
    }

    private static TreeSet<String> names(Schema s) {
        TreeSet<String> set = schemaNames(s);
        set.addAll(KEYWORDS);
        return set;
    }

    /** Table and column names only: what a quoted name may be. */
    static TreeSet<String> schemaNames(Schema s) {
        TreeSet<String> set = new TreeSet<>();
        for (Table t : s.tables()) {
            set.add(t.name().toLowerCase(Locale.ROOT));
            for (Column c : t.columns()) set.add(c.name().toLowerCase(Locale.ROOT));
        }
        return set;
    }

    @Override
    public boolean allows(int seq, int[] generated, int count, int token) {
        int i = names.size() == 1 ? 0 : seq;
        TreeSet<String> known = names.get(i), quoted = quotable.get(i);
        if (token == endId) return count > 0 && complete(tokenizer.decode(Arrays.copyOf(generated, count)), known, quoted);
        if (tokenizer.specialTokens().containsValue(token)) return false;
        int[] ids = Arrays.copyOf(generated, count + 1);
        ids[count] = token;
        return viable(tokenizer.decode(ids), known, quoted);
    }

    /**
     * Whether {@code sql} may end here: its last name is a whole name of the schema (not the start of one, as
     * {@code table_1} of {@code table_12}), and the query passes the guard.
     */
    static boolean complete(String sql, TreeSet<String> known, TreeSet<String> quoted) {
        return viable(sql + " ", known, quoted) && SqlGuard.check(sql).allowed();
    }

    /**
     * Whether {@code sql} can still be the start of a query over a schema: {@code known} holds the (lower-case)
     * words a bare name may be, {@code quoted} the table and column names a quoted name may be.
     */
    static boolean viable(String sql, TreeSet<String> known, TreeSet<String> quoted) {
        int n = sql.length();
        int depth = 0;
        boolean afterAs = false;
        java.util.Set<String> aliases = new java.util.HashSet<>();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\'') {
                int j = i + 1;
                while (true) {
                    if (j >= n) return true; // inside a string literal: anything may follow
                    if (sql.charAt(j) == '\'') {
                        if (j + 1 < n && sql.charAt(j + 1) == '\'') j += 2;
                        else break;
                    } else j++;
                }
                i = j + 1;
                afterAs = false;
            } else if (c == '"' || c == '`' || c == '[') {
                char close = c == '[' ? ']' : c;
                int j = sql.indexOf(close, i + 1);
                String name = sql.substring(i + 1, j < 0 ? n : j).toLowerCase(Locale.ROOT);
                if (j < 0) return afterAs || startsSomeName(name, quoted);
                if (!afterAs && !quoted.contains(name)) return false;
                i = j + 1;
                afterAs = false;
            } else if (Character.isLetter(c) || c == '_') {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_' || sql.charAt(j) == '$')) j++;
                String w = sql.substring(i, j).toLowerCase(Locale.ROOT);
                if (j == n) return afterAs || isAlias(w, true) || startsSomeName(w, known) || aliases.stream().anyMatch(a -> a.startsWith(w));
                if (afterAs) aliases.add(w);
                else if (!isAlias(w, false) && !known.contains(w) && !aliases.contains(w)) return false;
                afterAs = w.equals("as");
                i = j;
            } else if (Character.isDigit(c)) {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '.')) j++;
                i = j;
                afterAs = false;
            } else {
                if (c == '(') depth++;
                if (c == ')' && --depth < 0) return false;
                if (!Character.isWhitespace(c)) afterAs = false;
                i++;
            }
        }
        return true;
    }

    /** Spider-style aliases: T1, T2, … (or, while still being written, "t"). */
    private static boolean isAlias(String w, boolean partial) {
        if (w.length() < 2) return partial && w.equals("t");
        if (w.charAt(0) != 't') return false;
        for (int k = 1; k < w.length(); k++) if (!Character.isDigit(w.charAt(k))) return false;
        return true;
    }

    private static boolean startsSomeName(String prefix, TreeSet<String> known) {
        String next = known.ceiling(prefix);
        return next != null && next.startsWith(prefix);
    }

    /** The lower-case names a schema allows (keywords, functions, tables, columns), for tests and tools. */
    public static Set<String> allowedNames(Schema schema) {
        return names(schema);
    }
}
