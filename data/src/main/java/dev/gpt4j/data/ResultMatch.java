package dev.gpt4j.data;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Whether two query results are the same answer, the way execution accuracy is judged (Spider's test-suite
 * evaluation): same number of columns and rows; rows compared as a multiset, or as a list when the gold
 * query orders its rows; columns may come in another order (a permutation of the predicted columns that
 * makes the results equal is searched for). Numbers compare by value ({@code 1 = 1.0}), text by exact
 * characters, and NULL equals NULL.
 */
public final class ResultMatch {
    private ResultMatch() {}

    private static final int MAX_PERMUTATIONS = 20_000;

    public static boolean same(QueryResult gold, QueryResult pred, boolean ordered) {
        int cols = gold.columns().size();
        if (cols != pred.columns().size() || gold.rows().size() != pred.rows().size()) {
            return false;
        }
        String[][] g = canonical(gold.rows(), cols);
        String[][] p = canonical(pred.rows(), cols);
        int[] identity = new int[cols];
        for (int i = 0; i < cols; i++) {
            identity[i] = i;
        }
        if (rowsEqual(g, p, identity, ordered)) {
            return true;
        }
        if (cols == 1) {
            return false;
        }
        // candidates for each gold column: predicted columns with the same multiset of values
        String[] gSig = new String[cols];
        String[] pSig = new String[cols];
        for (int c = 0; c < cols; c++) {
            gSig[c] = signature(g, c);
            pSig[c] = signature(p, c);
        }
        int[] perm = new int[cols];
        boolean[] used = new boolean[cols];
        int[] budget = {MAX_PERMUTATIONS};
        return search(0, perm, used, gSig, pSig, g, p, ordered, budget);
    }

    private static boolean search(int c, int[] perm, boolean[] used, String[] gSig, String[] pSig,
                                  String[][] g, String[][] p, boolean ordered, int[] budget) {
        if (c == perm.length) {
            return budget[0]-- > 0 && rowsEqual(g, p, perm, ordered);
        }
        for (int k = 0; k < perm.length; k++) {
            if (!used[k] && gSig[c].equals(pSig[k])) {
                used[k] = true;
                perm[c] = k;
                if (search(c + 1, perm, used, gSig, pSig, g, p, ordered, budget)) {
                    return true;
                }
                used[k] = false;
                if (budget[0] <= 0) {
                    return false;
                }
            }
        }
        return false;
    }

    private static boolean rowsEqual(String[][] g, String[][] p, int[] perm, boolean ordered) {
        String[] gk = new String[g.length];
        String[] pk = new String[p.length];
        for (int r = 0; r < g.length; r++) {
            gk[r] = String.join("\u0001", g[r]);
            String[] row = new String[perm.length];
            for (int c = 0; c < perm.length; c++) {
                row[c] = p[r][perm[c]];
            }
            pk[r] = String.join("\u0001", row);
        }
        if (!ordered) {
            Arrays.sort(gk);
            Arrays.sort(pk);
        }
        return Arrays.equals(gk, pk);
    }

    private static String signature(String[][] rows, int c) {
        String[] col = new String[rows.length];
        for (int r = 0; r < rows.length; r++) {
            col[r] = rows[r][c];
        }
        Arrays.sort(col);
        return String.join("\u0001", col);
    }

    private static String[][] canonical(List<List<Object>> rows, int cols) {
        String[][] out = new String[rows.size()][];
        for (int r = 0; r < rows.size(); r++) {
            List<Object> row = rows.get(r);
            String[] k = new String[cols];
            for (int c = 0; c < cols; c++) {
                k[c] = canonical(row.get(c));
            }
            out[r] = k;
        }
        return out;
    }

    /** A text key for a value: equal keys exactly when the values are equal answers. */
    static String canonical(Object v) {
        if (v == null) {
            return "\u0000null";
        }
        if (v instanceof Number n) {
            if (n instanceof Double d && (d.isNaN() || d.isInfinite())) {
                return "n" + d;
            }
            BigDecimal b = n instanceof Long || n instanceof Integer ? BigDecimal.valueOf(n.longValue()) : new BigDecimal(n.toString());
            return "n" + b.stripTrailingZeros().toPlainString();
        }
        if (v instanceof byte[] bytes) {
            return "b" + HexFormat.of().formatHex(bytes);
        }
        return "s" + v;
    }
}
