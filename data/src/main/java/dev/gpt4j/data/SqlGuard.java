package dev.gpt4j.data;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.Select;

/**
 * The filter in front of every execution of generated (untrusted) SQL. A query passes only if it is exactly one
 * statement, that statement is a read-only query (SELECT, WITH … SELECT, VALUES, or UNION / INTERSECT / EXCEPT
 * of them) that JSqlParser parses, and it names none of SQLite's file- or extension-touching functions.
 * Everything else is refused with the reason: DDL, DML, PRAGMA, ATTACH, several statements, SELECT … INTO,
 * a WITH that hides a data change (DML keywords are refused anywhere in the statement, outside strings and
 * quoted names), and anything that does not parse. Execution then still happens on a
 * read-only connection ({@link SqliteDatabase}): this filter is the first of two walls, not the only one.
 */
public final class SqlGuard {
    private SqlGuard() {}

    private static final Set<String> QUERY_STARTS = Set.of("SELECT", "WITH", "VALUES");
    private static final Pattern FORBIDDEN_WORD = Pattern.compile(
            "(?i)\\b(INTO|PRAGMA|ATTACH|DETACH|INSERT|UPDATE|DELETE|DROP|ALTER|CREATE|VACUUM|REINDEX)\\b");
    /** SQLite's functions that load code or touch files (the last five come with the sqlite3 shell, not sqlite-jdbc). */
    private static final List<String> FORBIDDEN_FUNCTIONS = List.of("load_extension", "fts3_tokenizer", "readfile", "writefile", "edit",
            "zipfile", "sqlar_compress", "sqlar_uncompress");
    private static final Pattern FORBIDDEN_FUNCTION = Pattern.compile(
            "(?i)\\b(" + String.join("|", FORBIDDEN_FUNCTIONS) + ")\\s*\\(");

    /** Whether {@code sql} parses as one statement (safe or not), with SQLite-style quoting. */
    public static boolean parses(String sql) {
        if (sql == null || sql.isBlank()) return false;
        try {
            SqlParsing.parse(sql);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Checks {@code sql}; never throws for bad SQL (a refusal says why). */
    public static SqlCheck check(String sql) {
        if (sql == null || sql.isBlank()) {
            return SqlCheck.refuse("empty query");
        }
        List<String> statements = SqlText.statements(sql);
        if (statements.isEmpty()) {
            return SqlCheck.refuse("no statement (only comments or semicolons)");
        }
        if (statements.size() > 1) {
            return SqlCheck.refuse(statements.size() + " statements; only one query may run");
        }
        String stmt = statements.get(0);
        String first = SqlText.firstKeyword(stmt);
        if (!QUERY_STARTS.contains(first)) {
            return SqlCheck.refuse((first.isEmpty() ? "the statement" : first) + " is not a read-only query");
        }
        String code = codeOnly(stmt);
        Matcher word = FORBIDDEN_WORD.matcher(code);
        if (word.find()) {
            return SqlCheck.refuse(word.group(1).toUpperCase(Locale.ROOT) + " inside a query is not allowed");
        }
        Matcher fn = FORBIDDEN_FUNCTION.matcher(code);
        if (fn.find()) {
            return SqlCheck.refuse("function " + fn.group(1).toLowerCase(Locale.ROOT) + "() is not allowed");
        }
        Statement parsed;
        try {
            parsed = SqlParsing.parse(stmt);
        } catch (JSQLParserException | RuntimeException e) {
            return SqlCheck.refuse("does not parse: " + SqlParsing.firstLine(e));
        }
        if (!(parsed instanceof Select)) {
            return SqlCheck.refuse(parsed.getClass().getSimpleName() + " is not a read-only query");
        }
        return SqlCheck.allow(stmt.endsWith(";") ? stmt.substring(0, stmt.length() - 1).strip() : stmt);
    }

    /**
     * The statement with comments removed and every string literal and quoted identifier emptied, except that a
     * quoted identifier naming a forbidden function stays as that bare name: SQLite calls {@code "load_extension"(...)},
     * {@code [load_extension](...)} and {@code `load_extension`(...)} as it calls {@code load_extension(...)}.
     */
    static String codeOnly(String sql) {
        String s = SqlText.withoutComments(sql);
        StringBuilder sb = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            int j = SqlText.skipToken(s, i);
            if (j > i) {
                char q = s.charAt(i);
                String name = q == '"' || q == '`' || q == '[' ? s.substring(i + 1, Math.max(i + 1, j - 1)).toLowerCase(Locale.ROOT) : "";
                sb.append(FORBIDDEN_FUNCTIONS.contains(name) ? " " + name + " " : " x ");
                i = j;
            } else {
                sb.append(s.charAt(i++));
            }
        }
        return sb.toString();
    }
}
