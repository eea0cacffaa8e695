package dev.gpt4j.sql;

import dev.gpt4j.data.Column;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.Table;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one schema lets a query name, all lower-case: its tables and columns, each table's columns, the words a
 * bare name may be ({@code known}: these and {@link SqlScanner#KEYWORDS}), and how each name is spelled in the
 * schema (for {@link SqlScanner}'s rule on case), and the non-ASCII characters of all these and of the question
 * (what may complete a character a token leaves open). With a question, string literals must occur in it; with
 * {@code oneConditionPerColumn}, a WHERE clause may test each column once. Never changed once built: one instance
 * serves every scanner of a sequence.
 */
record SchemaNames(TreeSet<String> known, TreeSet<String> quoted, TreeSet<String> tables, TreeSet<String> columns,
                   Map<String, Set<String>> columnsOf, String question, boolean oneConditionPerColumn,
                   Map<String, Set<String>> spellings, List<String> characters) {

    static SchemaNames of(Schema s) {
        return of(s, null);
    }

    /** With a question (null: none): string literals must occur in it (lower-cased here). */
    static SchemaNames of(Schema s, String question) {
        TreeSet<String> tables = new TreeSet<>(), columns = new TreeSet<>();
        Map<String, Set<String>> columnsOf = new HashMap<>();
        Map<String, Set<String>> spellings = new HashMap<>();
        for (Table t : s.tables()) {
            String tn = t.name().toLowerCase(Locale.ROOT);
            tables.add(tn);
            spellings.computeIfAbsent(tn, k -> new HashSet<>()).add(t.name());
            Set<String> cs = columnsOf.computeIfAbsent(tn, k -> new HashSet<>());
            for (Column c : t.columns()) {
                String cn = c.name().toLowerCase(Locale.ROOT);
                columns.add(cn);
                cs.add(cn);
                spellings.computeIfAbsent(cn, k -> new HashSet<>()).add(c.name());
            }
        }
        TreeSet<String> quoted = new TreeSet<>(tables);
        quoted.addAll(columns);
        TreeSet<String> known = new TreeSet<>(quoted);
        known.addAll(SqlScanner.KEYWORDS);
        Set<String> text = new HashSet<>(spellings.keySet());
        spellings.values().forEach(text::addAll);
        if (question != null) text.add(question);
        return new SchemaNames(known, quoted, tables, columns, columnsOf, question == null ? null : question.toLowerCase(Locale.ROOT),
                false, spellings, characters(text));
    }

    /**
     * The non-ASCII characters of these texts, each also in upper, lower and title case: what may complete a
     * character that a token leaves open (see {@link SqlConstraint}).
     */
    private static List<String> characters(Set<String> texts) {
        Set<String> out = new TreeSet<>();
        for (String t : texts) {
            t.codePoints().filter(c -> c >= 0x80).forEach(c -> {
                for (int v : new int[] {c, Character.toUpperCase(c), Character.toLowerCase(c), Character.toTitleCase(c)}) {
                    out.add(new String(Character.toChars(v)));
                }
            });
        }
        return List.copyOf(out);
    }

    /** These names, where a WHERE clause may test each column once. */
    SchemaNames withOneConditionPerColumn() {
        return new SchemaNames(known, quoted, tables, columns, columnsOf, question, true, spellings, characters);
    }
}
