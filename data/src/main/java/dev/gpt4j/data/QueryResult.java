package dev.gpt4j.data;

import java.util.List;

/**
 * Rows of a query: column labels and values as SQLite returned them ({@code Long}, {@code Double},
 * {@code String}, {@code byte[]} or null). {@code truncated} is true when the row limit cut the result.
 */
public record QueryResult(List<String> columns, List<List<Object>> rows, boolean truncated, long nanos) {
    public QueryResult {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    /** A plain-text table of at most {@code maxRows} rows, for the command line. */
    public String format(int maxRows) {
        StringBuilder sb = new StringBuilder(String.join(" | ", columns)).append('\n');
        int n = Math.min(maxRows, rows.size());
        for (int r = 0; r < n; r++) {
            List<Object> row = rows.get(r);
            for (int c = 0; c < row.size(); c++) {
                if (c > 0) {
                    sb.append(" | ");
                }
                Object v = row.get(c);
                sb.append(v == null ? "NULL" : v instanceof byte[] b ? "<" + b.length + " bytes>" : v.toString());
            }
            sb.append('\n');
        }
        if (rows.size() > n || truncated) {
            sb.append("... (").append(truncated ? "more than " : "").append(rows.size()).append(" rows)\n");
        } else {
            sb.append("(").append(rows.size()).append(rows.size() == 1 ? " row)\n" : " rows)\n");
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "QueryResult[" + columns.size() + " columns, " + rows.size() + " rows" + (truncated ? ", truncated" : "") + "]";
    }
}
