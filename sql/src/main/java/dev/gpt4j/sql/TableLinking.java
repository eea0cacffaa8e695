package dev.gpt4j.sql;

import dev.gpt4j.tokenizer.BpeTokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Table linking: the tables a question names, and the bonus {@link SqlConstraint}'s {@code prefer} adds to the
 * tokens that start one of them where the first table after FROM comes next. A preference, not a rule.
 */
final class TableLinking {
    private final BpeTokenizer tokenizer;
    /** Per sequence, the tables its question names. */
    private final List<Set<String>> named;
    /** Per sequence and named table: the tokens that start the name, with a space before it ([0]) and without ([1]). */
    private List<Map<String, int[][]>> starts;

    /** One question per schema's tables; with one, it serves every sequence. */
    TableLinking(BpeTokenizer tokenizer, List<Set<String>> tables, List<String> questions) {
        this.tokenizer = tokenizer;
        List<Set<String>> n = new ArrayList<>(tables.size());
        for (int i = 0; i < tables.size(); i++) n.add(Set.copyOf(namedTables(tables.get(i), questions.get(i))));
        this.named = List.copyOf(n);
    }

    /**
     * The tables a question names: a table's name with its underscores as spaces, or that in the singular or plural
     * ("singer" and "singers", "country" and "countries"), as whole words, ignoring case.
     */
    static Set<String> namedTables(Set<String> tables, String question) {
        String q = " " + question.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", " ") + " ";
        Set<String> out = new TreeSet<>();
        for (String t : tables) {
            String base = t.replace('_', ' ').trim();
            if (base.isEmpty()) continue;
            List<String> forms = new ArrayList<>(List.of(base));
            if (base.endsWith("s")) forms.add(base.substring(0, base.length() - 1));
            else forms.add(base + "s");
            if (base.endsWith("y")) forms.add(base.substring(0, base.length() - 1) + "ies");
            if (base.endsWith("ies")) forms.add(base.substring(0, base.length() - 3) + "y");
            for (String f : forms) {
                if (!f.isBlank() && q.contains(" " + f + " ")) {
                    out.add(t);
                    break;
                }
            }
        }
        return out;
    }

    /** Whether sequence i's question names no table (then there is nothing to prefer). */
    boolean namesNone(int i) {
        return named.get(i).isEmpty();
    }

    /**
     * Adds {@link SqlConstraint#TABLE_BONUS} to the tokens that start a table sequence i's question names and
     * {@code choices} holds (the tables the constraint allows there), each token once; {@code spaced}: the text so
     * far ends in white space, so the name's tokens without a leading space.
     */
    void addBonus(int i, Set<String> choices, boolean spaced, float[] logits) {
        Set<Integer> done = new HashSet<>();
        for (Map.Entry<String, int[][]> e : starts().get(i).entrySet()) {
            if (!choices.contains(e.getKey())) continue;
            for (int t : e.getValue()[spaced ? 1 : 0]) if (done.add(t)) logits[t] += SqlConstraint.TABLE_BONUS;
        }
    }

    /** {@link #starts}, worked out on first use: each vocabulary entry's text, matched against the named tables. */
    private List<Map<String, int[][]>> starts() {
        if (starts != null) return starts;
        int V = tokenizer.vocabSize();
        String[] text = new String[V];
        Set<Integer> special = new HashSet<>(tokenizer.specialTokens().values());
        for (int v = 0; v < V; v++) text[v] = special.contains(v) ? "" : tokenizer.decode(new int[] {v}).toLowerCase(Locale.ROOT);
        List<Map<String, int[][]>> all = new ArrayList<>(named.size());
        for (Set<String> n : named) {
            Map<String, int[][]> m = new HashMap<>();
            for (String t : n) {
                List<Integer> spaced = new ArrayList<>(), bare = new ArrayList<>();
                for (int v = 0; v < V; v++) {
                    String s = text[v];
                    if (s.length() > 1 && s.charAt(0) == ' ' && t.startsWith(s.substring(1))) spaced.add(v);
                    else if (!s.isEmpty() && !Character.isWhitespace(s.charAt(0)) && t.startsWith(s)) bare.add(v);
                }
                m.put(t, new int[][] {spaced.stream().mapToInt(Integer::intValue).toArray(), bare.stream().mapToInt(Integer::intValue).toArray()});
            }
            all.add(m);
        }
        starts = List.copyOf(all);
        return starts;
    }
}
