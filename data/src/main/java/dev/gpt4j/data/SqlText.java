package dev.gpt4j.data;

import java.util.ArrayList;
import java.util.List;

/**
 * A small SQL lexer that knows only what is needed to cut text safely: string literals ({@code '...'} with
 * {@code ''}), quoted identifiers ({@code "..."}, {@code `...`}, {@code [...]}), {@code --} and block comments,
 * and the {@code ;} that ends a statement.
 */
public final class SqlText {
    private SqlText() {}

    /** The statements of {@code sql}, split on {@code ;} outside strings, identifiers and comments; blank ones dropped. */
    public static List<String> statements(String sql) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            int skip = skipToken(sql, i);
            if (skip > i) {
                i = skip;
            } else if (c == ';') {
                addIfCode(out, sql.substring(start, i));
                start = ++i;
            } else {
                i++;
            }
        }
        addIfCode(out, sql.substring(start));
        return out;
    }

    private static void addIfCode(List<String> out, String stmt) {
        if (!withoutComments(stmt).isBlank()) {
            out.add(stmt.strip());
        }
    }

    /**
     * If a string, quoted identifier or comment starts at {@code i}, the index just past it (the end of text when
     * it is not closed); else {@code i}.
     */
    static int skipToken(String s, int i) {
        int n = s.length();
        char c = s.charAt(i);
        if (c == '\'' || c == '"' || c == '`') {
            int j = i + 1;
            while (j < n) {
                if (s.charAt(j) == c) {
                    if (j + 1 < n && s.charAt(j + 1) == c) {
                        j += 2;
                        continue;
                    }
                    return j + 1;
                }
                j++;
            }
            return n;
        }
        if (c == '[') {
            int j = s.indexOf(']', i + 1);
            return j < 0 ? n : j + 1;
        }
        if (c == '-' && i + 1 < n && s.charAt(i + 1) == '-') {
            int j = s.indexOf('\n', i);
            return j < 0 ? n : j + 1;
        }
        if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
            int j = s.indexOf("*/", i + 2);
            return j < 0 ? n : j + 2;
        }
        return i;
    }

    /** The text with comments replaced by one space each; strings and identifiers kept. */
    public static String withoutComments(String sql) {
        StringBuilder sb = new StringBuilder(sql.length());
        int i = 0;
        while (i < sql.length()) {
            int j = skipToken(sql, i);
            if (j > i) {
                char c = sql.charAt(i);
                boolean comment = c == '-' || c == '/';
                sb.append(comment ? " " : sql.substring(i, j));
                i = j;
            } else {
                sb.append(sql.charAt(i++));
            }
        }
        return sb.toString();
    }

    /**
     * The first word of the statement (upper-case), after comments and opening parentheses; empty if none.
     * {@code /* x *\/ ( select 1)} gives {@code SELECT}.
     */
    public static String firstKeyword(String sql) {
        String s = withoutComments(sql);
        int i = 0;
        while (i < s.length() && (Character.isWhitespace(s.charAt(i)) || s.charAt(i) == '(')) {
            i++;
        }
        int j = i;
        while (j < s.length() && (Character.isLetter(s.charAt(j)) || s.charAt(j) == '_')) {
            j++;
        }
        return s.substring(i, j).toUpperCase(java.util.Locale.ROOT);
    }

    /**
     * Whitespace runs outside strings and quoted identifiers collapsed to one space, comments dropped, trimmed,
     * a trailing {@code ;} removed. Spider's gold files write {@code age  >  56}; this gives {@code age > 56}.
     */
    public static String normalizeSpace(String sql) {
        String s = withoutComments(sql);
        StringBuilder sb = new StringBuilder(s.length());
        int i = 0;
        boolean space = false;
        while (i < s.length()) {
            int j = skipToken(s, i);
            if (j > i) {
                if (space && sb.length() > 0) {
                    sb.append(' ');
                }
                space = false;
                sb.append(s, i, j);
                i = j;
                continue;
            }
            char c = s.charAt(i++);
            if (Character.isWhitespace(c)) {
                space = true;
            } else {
                if (space && sb.length() > 0) {
                    sb.append(' ');
                }
                space = false;
                sb.append(c);
            }
        }
        String out = sb.toString().strip();
        while (out.endsWith(";")) {
            out = out.substring(0, out.length() - 1).strip();
        }
        return out;
    }

    /** The text with every string literal replaced by {@code ''} (identifiers and code kept), comments dropped. */
    public static String withoutStringLiterals(String sql) {
        String s = withoutComments(sql);
        StringBuilder sb = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            int j = skipToken(s, i);
            if (j > i) {
                sb.append(s.charAt(i) == '\'' ? "''" : s.substring(i, j));
                i = j;
            } else {
                sb.append(s.charAt(i++));
            }
        }
        return sb.toString();
    }
}
