package dev.gpt4j.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A bounded sample of one table's rows, for drills that need real values. At most {@code bound} rows are read,
 * whatever the table's size: a table with a rowid is read in a few runs starting at random rowids (SQLite finds
 * {@code min(rowid)} and {@code max(rowid)} and each start in its b-tree, without a scan), any other table
 * ({@code WITHOUT ROWID}, a view) by its first {@code bound} rows. A table that cannot be read gives no rows.
 *
 * @param columns the table's columns, in schema order (the order of each row's values)
 * @param rows    the rows read, each aligned with {@code columns}
 * @param read    rows fetched from the database (the bound holds for it: {@code read <= bound})
 */
public record RowSample(List<String> columns, List<List<Object>> rows, int read) {
    public RowSample {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    /** Runs of rows read from random starting rowids in a large table. */
    private static final int RUNS = 4;

    /** Reads at most {@code bound} rows of {@code table} from {@code db}; the seed picks the starting points. */
    public static RowSample of(SqliteDatabase db, Table table, int bound, Random rnd) {
        if (bound < 1) throw new IllegalArgumentException("the row bound must be at least 1, not " + bound);
        List<String> cols = new ArrayList<>();
        StringBuilder select = new StringBuilder("SELECT ");
        for (Column c : table.columns()) {
            if (!cols.isEmpty()) select.append(", ");
            cols.add(c.name());
            select.append(Identifiers.quote(c.name()));
        }
        String from = " FROM " + Identifiers.quote(table.name());
        List<List<Object>> rows = new ArrayList<>();
        int read = 0;
        try {
            long lo, hi;
            try {
                List<Object> mm = db.query("SELECT min(rowid), max(rowid)" + from).rows().get(0);
                lo = mm.get(0) instanceof Number n ? n.longValue() : 0;
                hi = mm.get(1) instanceof Number n ? n.longValue() : -1;
            } catch (SqlExecutionException noRowid) {
                lo = 0;
                hi = Long.MAX_VALUE; // unknown: read the first rows
            }
            if (hi < lo) return new RowSample(cols, List.of(), 0); // empty table
            if (hi == Long.MAX_VALUE || hi - lo + 1 <= bound) {
                for (List<Object> r : db.query(select + from + " LIMIT " + bound).rows()) {
                    rows.add(r);
                    read++;
                }
            } else {
                // a large table: RUNS runs at random rowids, each a range scan of the rowid b-tree
                int per = Math.max(1, bound / RUNS);
                Set<Long> starts = new HashSet<>();
                for (int k = 0; k < RUNS && read < bound; k++) {
                    long start = lo + (long) (rnd.nextDouble() * (hi - lo + 1));
                    if (!starts.add(start)) continue;
                    int n = Math.min(per, bound - read);
                    for (List<Object> r : db.query(select + from + " WHERE rowid >= " + start + " LIMIT " + n).rows()) {
                        rows.add(r);
                        read++;
                    }
                }
            }
        } catch (SqlExecutionException e) {
            return new RowSample(cols, rows, read); // unreadable (a missing collation, a time-out): what was read
        }
        return new RowSample(cols, rows, read);
    }

    /** The distinct non-null values of a column in the sample, in the order met. */
    public List<Object> values(String column) {
        int i = -1;
        for (int k = 0; k < columns.size(); k++) if (columns.get(k).equalsIgnoreCase(column)) i = k;
        if (i < 0) return List.of();
        List<Object> out = new ArrayList<>();
        Set<Object> seen = new HashSet<>();
        for (List<Object> r : rows) {
            Object v = r.get(i);
            if (v != null && seen.add(v)) out.add(v);
        }
        return out;
    }

    /** How many sampled rows have a non-null value in the column. */
    public int nonNull(String column) {
        int i = -1;
        for (int k = 0; k < columns.size(); k++) if (columns.get(k).equalsIgnoreCase(column)) i = k;
        if (i < 0) return 0;
        int n = 0;
        for (List<Object> r : rows) if (r.get(i) != null) n++;
        return n;
    }
}
