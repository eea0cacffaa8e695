package dev.gpt4j.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteLimits;
import org.sqlite.SQLiteOpenMode;

/**
 * A SQLite database opened read-only (open mode, {@code query_only}, the file marked immutable, and no database may
 * be attached, so that VACUUM INTO cannot write a copy elsewhere), with a time-out per query (the statement is
 * interrupted), a row limit and a byte limit. {@link #query(String)} runs trusted SQL; {@link #queryUntrusted(String)}
 * first passes it through {@link SqlGuard}.
 *
 * <p>The byte limit bounds memory, which the row limit alone does not: SQLite's own limit on the length of one string
 * or blob ({@code SQLITE_LIMIT_LENGTH}, 1 GB by default, so that {@code SELECT randomblob(1000000000)} returned a 1 GB
 * row) is lowered to it on the connection, so such a value fails inside SQLite before it is built; and rows stop being
 * read (the result {@code truncated}) once the values read add up to more than it.
 */
public final class SqliteDatabase implements AutoCloseable {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gpt4j-sql-timeout");
        t.setDaemon(true);
        return t;
    });

    private final Path file;
    private final Connection connection;
    private final Duration timeout;
    private final int maxRows;
    private final long maxBytes;

    /**
     * The byte limit of the opening methods that take none: far above any result of the data sets (Spider's largest
     * are a few MB) and far below the 1 GB a single value could reach before.
     */
    public static final long DEFAULT_MAX_BYTES = 64L << 20;

    private SqliteDatabase(Path file, Connection connection, Duration timeout, int maxRows, long maxBytes) {
        this.file = file;
        this.connection = connection;
        this.timeout = timeout;
        this.maxRows = maxRows;
        this.maxBytes = maxBytes;
    }

    /** Opens {@code file} read-only with a 10 s time-out, a 100,000-row limit and {@link #DEFAULT_MAX_BYTES}. */
    public static SqliteDatabase open(Path file) {
        return open(file, Duration.ofSeconds(10), 100_000);
    }

    /** Opens {@code file} read-only; each query is interrupted after {@code timeout} and stops at {@code maxRows} rows. */
    public static SqliteDatabase open(Path file, Duration timeout, int maxRows) {
        return open(file, timeout, maxRows, DEFAULT_MAX_BYTES);
    }

    /**
     * Opens {@code file} read-only; each query is interrupted after {@code timeout} and stops at {@code maxRows} rows or
     * once its values add up to more than {@code maxBytes} (strings counted in UTF-8, blobs by length, numbers as 8);
     * a single string or blob longer than {@code maxBytes} is an error inside SQLite.
     */
    public static SqliteDatabase open(Path file, Duration timeout, int maxRows, long maxBytes) {
        if (!Files.isRegularFile(file)) {
            throw new DataFileException(file.toString(), "", "no such database file");
        }
        checkLimits(timeout, maxRows, maxBytes);
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setOpenMode(SQLiteOpenMode.READONLY);
        config.setOpenMode(SQLiteOpenMode.OPEN_URI);
        config.enableLoadExtension(false);
        try {
            String uri = "jdbc:sqlite:" + file.toAbsolutePath().toUri() + "?mode=ro&immutable=1";
            Connection c = config.createConnection(uri);
            noAttachedDatabases(c);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA query_only = 1");
            }
            limitLength(c, maxBytes);
            return new SqliteDatabase(file, c, timeout, maxRows, maxBytes);
        } catch (SQLException e) {
            throw new DataFileException(file.toString(), "", "cannot open database: " + e.getMessage(), e);
        }
    }

    /** Fills a new in-memory database through its (still writable) connection. */
    @FunctionalInterface
    public interface Loader {
        void load(Connection connection) throws SQLException;
    }

    /**
     * A new in-memory database: {@code load} fills it, then it is made read-only ({@code PRAGMA query_only}) and
     * behaves like a file opened with {@link #open(Path, Duration, int)}. {@code name} stands for its file in
     * messages. A failing {@code load} is a {@link DataFileException} naming it.
     */
    public static SqliteDatabase inMemory(String name, Duration timeout, int maxRows, Loader load) {
        checkLimits(timeout, maxRows, DEFAULT_MAX_BYTES);
        SQLiteConfig config = new SQLiteConfig();
        config.enableLoadExtension(false);
        Connection c = null;
        try {
            c = config.createConnection("jdbc:sqlite::memory:");
            load.load(c);
            noAttachedDatabases(c);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA query_only = 1");
            }
            limitLength(c, DEFAULT_MAX_BYTES); // after the load, which may build larger values than a query may return
            return new SqliteDatabase(Path.of(name), c, timeout, maxRows, DEFAULT_MAX_BYTES);
        } catch (SQLException e) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // the load's error is the one to report
                }
            }
            throw new DataFileException(name, "", "cannot build the in-memory database: " + e.getMessage(), e);
        }
    }

    private static void checkLimits(Duration timeout, int maxRows, long maxBytes) {
        if (maxRows < 1 || maxBytes < 1 || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("maxRows and maxBytes must be >= 1 and timeout > 0, got " + maxRows + ", " + maxBytes + ", "
                    + timeout);
        }
    }

    /** Lowers SQLite's limit on one string or blob (1 GB by default) to {@code maxBytes}. */
    private static void limitLength(Connection c, long maxBytes) throws SQLException {
        c.unwrap(SQLiteConnection.class).setLimit(SQLiteLimits.SQLITE_LIMIT_LENGTH, (int) Math.min(maxBytes, 1_000_000_000L));
    }

    /**
     * No database may be attached to {@code c}: neither ATTACH nor VACUUM INTO (which attaches its target) can create
     * or write a file, even after {@code PRAGMA query_only = 0} (the read-only open protects only the database's own file).
     */
    private static void noAttachedDatabases(Connection c) throws SQLException {
        c.unwrap(SQLiteConnection.class).setLimit(SQLiteLimits.SQLITE_LIMIT_ATTACHED, 0);
    }

    public Path file() {
        return file;
    }

    /** The byte limit of a query's result (and of one value in it). */
    public long maxBytes() {
        return maxBytes;
    }

    /** Checks {@code sql} with {@link SqlGuard}, then runs it; a refusal is a {@link SqlExecutionException} of kind REFUSED. */
    public QueryResult queryUntrusted(String sql) {
        SqlCheck check = SqlGuard.check(sql);
        if (!check.allowed()) {
            throw new SqlExecutionException(SqlExecutionException.Kind.REFUSED, check.reason(), null);
        }
        return query(check.sql());
    }

    /** Runs a query (on the read-only connection) and returns its rows, up to the row and byte limits. */
    public QueryResult query(String sql) {
        long t0 = System.nanoTime();
        AtomicBoolean timedOut = new AtomicBoolean();
        try (Statement st = connection.createStatement()) {
            ScheduledFuture<?> alarm = TIMER.schedule(() -> {
                timedOut.set(true);
                try {
                    st.cancel();
                } catch (SQLException ignored) {
                    // the statement finished or closed meanwhile
                }
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
            try (ResultSet rs = st.executeQuery(sql)) {
                ResultSetMetaData md = rs.getMetaData();
                int n = md.getColumnCount();
                List<String> cols = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    cols.add(md.getColumnLabel(i));
                }
                List<List<Object>> rows = new ArrayList<>();
                boolean truncated = false;
                long bytes = 0;
                while (rs.next()) {
                    if (rows.size() == maxRows) {
                        truncated = true;
                        break;
                    }
                    List<Object> row = new ArrayList<>(n);
                    for (int i = 1; i <= n; i++) {
                        Object v = rs.getObject(i);
                        bytes += size(v);
                        row.add(v instanceof Integer k ? Long.valueOf(k) : v);
                    }
                    if (bytes > maxBytes) { // the row that goes over is left out: the rows kept fit
                        truncated = true;
                        break;
                    }
                    rows.add(row);
                }
                return new QueryResult(cols, rows, truncated, System.nanoTime() - t0);
            } finally {
                alarm.cancel(false);
            }
        } catch (SQLException e) {
            if (timedOut.get()) {
                throw new SqlExecutionException(SqlExecutionException.Kind.TIMEOUT,
                        "query timed out after " + timeout.toMillis() + " ms", e);
            }
            String m = e.getMessage();
            if (m != null && m.contains("string or blob too big")) {
                m = "a value would be longer than the limit of " + maxBytes + " bytes (" + m + ")";
            }
            throw new SqlExecutionException(SqlExecutionException.Kind.ERROR, m, e);
        }
    }

    /** A value's size for the byte limit: UTF-8 length of a string, a blob's length, 8 for anything else. */
    private static long size(Object v) {
        if (v instanceof String s) {
            long n = s.length();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c >= 0x80) n += c >= 0x800 && !Character.isSurrogate(c) ? 2 : 1; // surrogate pairs: 4 bytes for 2 chars
            }
            return n;
        }
        return v instanceof byte[] b ? b.length : 8;
    }

    /** The schema as SQLite reports it (PRAGMA table_info / foreign_key_list), for user databases. */
    public Schema schema() {
        String name = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        List<Table> tables = new ArrayList<>();
        List<ForeignKey> fks = new ArrayList<>();
        try (Statement st = connection.createStatement()) {
            List<String> names = new ArrayList<>();
            try (ResultSet rs = st.executeQuery(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            for (String t : names) {
                List<Column> cols = new ArrayList<>();
                List<int[]> pkOrder = new ArrayList<>();
                List<String> pkNames = new ArrayList<>();
                try (ResultSet rs = st.executeQuery("PRAGMA table_info(" + Identifiers.quote(t) + ")")) {
                    while (rs.next()) {
                        cols.add(new Column(rs.getString("name"), rs.getString("type")));
                        int pk = rs.getInt("pk");
                        if (pk > 0) {
                            pkOrder.add(new int[] {pk, pkNames.size()});
                            pkNames.add(rs.getString("name"));
                        }
                    }
                }
                pkOrder.sort((a, b) -> Integer.compare(a[0], b[0]));
                List<String> pk = new ArrayList<>();
                for (int[] p : pkOrder) {
                    pk.add(pkNames.get(p[1]));
                }
                tables.add(new Table(t, cols, pk));
                try (ResultSet rs = st.executeQuery("PRAGMA foreign_key_list(" + Identifiers.quote(t) + ")")) {
                    while (rs.next()) {
                        String to = rs.getString("to");
                        fks.add(new ForeignKey(t, rs.getString("from"), rs.getString("table"), to));
                    }
                }
            }
        } catch (SQLException e) {
            throw new DataFileException(file.toString(), "", "cannot read the schema: " + e.getMessage(), e);
        }
        // "REFERENCES t" without a column means t's primary key; SQLite accepts dangling ones, so they are dropped
        List<ForeignKey> resolved = Schema.resolveReferences(tables, fks, fk -> { });
        return new Schema(name, tables, resolved);
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new IllegalStateException("closing " + file + ": " + e.getMessage(), e);
        }
    }
}
