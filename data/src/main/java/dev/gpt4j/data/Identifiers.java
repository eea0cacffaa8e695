package dev.gpt4j.data;

import java.util.Locale;
import java.util.Set;

/** SQL identifier quoting: plain names stay as they are, anything else gets SQL's double quotes. */
public final class Identifiers {
    private Identifiers() {}

    /** SQLite's keywords (sqlite.org/lang_keywords.html); a name equal to one of these must be quoted. */
    private static final Set<String> KEYWORDS = Set.of(
            "abort", "action", "add", "after", "all", "alter", "always", "analyze", "and", "as", "asc", "attach",
            "autoincrement", "before", "begin", "between", "by", "cascade", "case", "cast", "check", "collate",
            "column", "commit", "conflict", "constraint", "create", "cross", "current", "current_date",
            "current_time", "current_timestamp", "database", "default", "deferrable", "deferred", "delete", "desc",
            "detach", "distinct", "do", "drop", "each", "else", "end", "escape", "except", "exclude", "exclusive",
            "exists", "explain", "fail", "filter", "first", "following", "for", "foreign", "from", "full",
            "generated", "glob", "group", "groups", "having", "if", "ignore", "immediate", "in", "index", "indexed",
            "initially", "inner", "insert", "instead", "intersect", "into", "is", "isnull", "join", "key", "last",
            "left", "like", "limit", "match", "materialized", "natural", "no", "not", "nothing", "notnull", "null",
            "nulls", "of", "offset", "on", "or", "order", "others", "outer", "over", "partition", "plan", "pragma",
            "preceding", "primary", "query", "raise", "range", "recursive", "references", "regexp", "reindex",
            "release", "rename", "replace", "restrict", "returning", "right", "rollback", "row", "rows",
            "savepoint", "select", "set", "table", "temp", "temporary", "then", "ties", "to", "transaction",
            "trigger", "unbounded", "union", "unique", "update", "using", "vacuum", "values", "view", "virtual",
            "when", "where", "window", "with", "without");

    /** True for a name that needs no quotes: letters, digits and underscores, not starting with a digit, not a keyword. */
    public static boolean isPlain(String name) {
        if (name.isEmpty() || !(Character.isLetter(name.charAt(0)) && name.charAt(0) < 128 || name.charAt(0) == '_')) {
            return false;
        }
        for (int i = 1; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c < 128 && (Character.isLetterOrDigit(c) || c == '_'))) {
                return false;
            }
        }
        return !KEYWORDS.contains(name.toLowerCase(Locale.ROOT));
    }

    /** The name as it must appear in SQL: unchanged when plain, else in double quotes with inner quotes doubled. */
    public static String quoteIfNeeded(String name) {
        return isPlain(name) ? name : quote(name);
    }

    /** The name in double quotes, inner double quotes doubled. */
    public static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** Strips one level of SQL quoting ({@code "x"}, {@code `x`}, {@code [x]}) and undoubles inner quotes. */
    public static String unquote(String name) {
        if (name == null || name.length() < 2) {
            return name;
        }
        char first = name.charAt(0);
        char last = name.charAt(name.length() - 1);
        String inner = name.substring(1, name.length() - 1);
        if (first == '"' && last == '"') {
            return inner.replace("\"\"", "\"");
        }
        if (first == '`' && last == '`') {
            return inner.replace("``", "`");
        }
        if (first == '[' && last == ']') {
            return inner;
        }
        return name;
    }

    /** A string literal in single quotes, inner single quotes doubled. */
    public static String stringLiteral(String value) {
        return '\'' + value.replace("'", "''") + '\'';
    }
}
