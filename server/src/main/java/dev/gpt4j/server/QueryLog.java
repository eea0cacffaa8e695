package dev.gpt4j.server;

import org.sqlite.SQLiteConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The query log: one row per request in a SQLite file, written (and committed) before the reply is sent, so that
 * every answer a client saw is in the log, through restarts and {@code kill -9}. The schema is {@link #SCHEMA}
 * (also in {@code server/README.md}). The file is in WAL mode with {@code synchronous = NORMAL}: a committed row
 * survives the process dying at any point (it is in the WAL file the OS holds); only a power cut can take the last
 * commits, which is the trade that keeps a commit well under a millisecond.
 *
 * <p>Thread-safe: one connection, one writer at a time (SQLite allows no more).
 */
public final class QueryLog implements AutoCloseable {

    /** Version of {@link #SCHEMA}, in {@code PRAGMA user_version}. */
    public static final int VERSION = 1;

    /** The log's one table (see {@code server/README.md} for what each column holds). */
    public static final String SCHEMA = """
            CREATE TABLE IF NOT EXISTS request (
              id            INTEGER PRIMARY KEY AUTOINCREMENT, -- the id a reply carries; never reused
              time          TEXT    NOT NULL, -- when the request came, ISO-8601 UTC
              endpoint      TEXT    NOT NULL, -- ask, ask/stream, completions, chat/completions
              status        INTEGER NOT NULL, -- HTTP status of the reply
              error         TEXT,             -- the reply's error, or the SQL's execution error
              database      TEXT,
              question      TEXT,             -- the question (for /v1: the prompt or last user message)
              sql           TEXT,             -- the generated SQL (for /v1: the generated text)
              parses        INTEGER,          -- 1 if JSqlParser parses the SQL
              safe          INTEGER,          -- 1 if SqlGuard allowed it, 0 if it refused
              refusal       TEXT,             -- SqlGuard's reason when refused
              executed      INTEGER,          -- 1 if the SQL ran on the database
              rows_returned INTEGER,
              truncated     INTEGER,          -- 1 if the row or byte limit cut the result
              prompt_tokens INTEGER,
              sql_tokens    INTEGER,
              queue_ms      REAL,
              prefill_ms    REAL,
              decode_ms     REAL,
              execute_ms    REAL,
              total_ms      REAL,
              model         TEXT,
              adapter       TEXT,             -- the LoRA adapter active for it, if any
              client        TEXT,             -- the client's address
              feedback      INTEGER,          -- null: none; 1: the SQL was correct; 0: it was not
              corrected_sql TEXT,             -- the user's correction (passed SqlGuard and ran on the database)
              feedback_time TEXT
            );
            CREATE INDEX IF NOT EXISTS request_database ON request(database, id);
            """;

    private static final List<String> COLUMNS = List.of("time", "endpoint", "status", "error", "database", "question", "sql", "parses",
            "safe", "refusal", "executed", "rows_returned", "truncated", "prompt_tokens", "sql_tokens", "queue_ms", "prefill_ms", "decode_ms",
            "execute_ms", "total_ms", "model", "adapter", "client");

    /** One request as logged: all fields but {@code time} may be null. */
    public record Entry(String endpoint, int status, String error, String database, String question, String sql, Boolean parses,
                        Boolean safe, String refusal, Boolean executed, Integer rowsReturned, Boolean truncated, Integer promptTokens,
                        Integer sqlTokens, Double queueMs, Double prefillMs, Double decodeMs, Double executeMs, Double totalMs, String model,
                        String adapter, String client) {

        /** A request refused before any work: only its endpoint, status, error and what it asked. */
        public static Entry refused(String endpoint, int status, String error, String database, String question, String model, String client) {
            return new Entry(endpoint, status, error, database, question, null, null, null, null, null, null, null, null, null, null, null,
                    null, null, null, model, null, client);
        }
    }

    /** A logged row, as {@link #get} and {@link #history} read it back (columns by name). */
    public record Row(Map<String, Object> values) {
        public long id() {
            return ((Number) values.get("id")).longValue();
        }

        public Object get(String column) {
            return values.get(column);
        }
    }

    private final Path file;
    private final Connection connection;

    private QueryLog(Path file, Connection connection) {
        this.file = file;
        this.connection = connection;
    }

    /** Opens (or creates) the log at {@code file}; a file of a newer schema, or not a log, is an error naming it. */
    public static QueryLog open(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot create the folder of the log " + file + ": " + e.getMessage(), e);
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(10_000);
        config.enableLoadExtension(false);
        Connection c = null;
        try {
            c = config.createConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = c.createStatement()) {
                int version;
                try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                    version = rs.getInt(1);
                }
                if (version > VERSION) throw new IllegalArgumentException("the log " + file + " has schema version " + version
                        + ", newer than this gpt4j's " + VERSION);
                for (String stmt : SCHEMA.split(";\\s*\\n")) { // statements end a line; comments may hold a ";"
                    if (!stmt.isBlank()) s.execute(stmt);
                }
                s.execute("PRAGMA user_version = " + VERSION);
            }
            return new QueryLog(file, c);
        } catch (SQLException e) {
            close(c);
            throw new IllegalArgumentException("cannot open the query log " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close(c);
            throw e;
        }
    }

    private static void close(Connection c) {
        if (c == null) return;
        try {
            c.close();
        } catch (SQLException ignored) {
            // the first error is the one to report
        }
    }

    public Path file() {
        return file;
    }

    /** Inserts a row and commits it (autocommit); returns its id. */
    public synchronized long insert(Entry e) {
        String sql = "INSERT INTO request (" + String.join(", ", COLUMNS) + ") VALUES (" + "?, ".repeat(COLUMNS.size() - 1) + "?)";
        try (PreparedStatement st = connection.prepareStatement(sql, Statement.RETURN_GENERATED_KEYS)) {
            Object[] v = {Instant.now().toString(), e.endpoint(), e.status(), e.error(), e.database(), e.question(), e.sql(), e.parses(),
                    e.safe(), e.refusal(), e.executed(), e.rowsReturned(), e.truncated(), e.promptTokens(), e.sqlTokens(), e.queueMs(),
                    e.prefillMs(), e.decodeMs(), e.executeMs(), e.totalMs(), e.model(), e.adapter(), e.client()};
            for (int i = 0; i < v.length; i++) bind(st, i + 1, v[i]);
            st.executeUpdate();
            try (ResultSet keys = st.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        } catch (SQLException ex) {
            throw new IllegalStateException("cannot write to the query log " + file + ": " + ex.getMessage(), ex);
        }
    }

    private static void bind(PreparedStatement st, int i, Object v) throws SQLException {
        if (v == null) st.setNull(i, Types.NULL);
        else if (v instanceof Boolean b) st.setInt(i, b ? 1 : 0);
        else if (v instanceof Integer n) st.setInt(i, n);
        else if (v instanceof Long n) st.setLong(i, n);
        else if (v instanceof Double d) st.setDouble(i, d);
        else st.setString(i, v.toString());
    }

    /** Records feedback on row {@code id} (the last feedback wins) and commits it; false if there is no such row. */
    public synchronized boolean feedback(long id, boolean correct, String correctedSql) {
        try (PreparedStatement st = connection.prepareStatement(
                "UPDATE request SET feedback = ?, corrected_sql = ?, feedback_time = ? WHERE id = ?")) {
            st.setInt(1, correct ? 1 : 0);
            bind(st, 2, correctedSql);
            st.setString(3, Instant.now().toString());
            st.setLong(4, id);
            return st.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot write to the query log " + file + ": " + e.getMessage(), e);
        }
    }

    /** Row {@code id}, or null. */
    public synchronized Row get(long id) {
        List<Row> r = select("SELECT * FROM request WHERE id = ?", id);
        return r.isEmpty() ? null : r.get(0);
    }

    /**
     * The latest answered questions (status 200 on {@code ask} or {@code ask/stream}), newest first, of one database
     * (null: all), at most {@code limit}.
     */
    public synchronized List<Row> history(String database, int limit) {
        String where = "status = 200 AND endpoint IN ('ask', 'ask/stream')" + (database == null ? "" : " AND database = ?");
        String sql = "SELECT * FROM request WHERE " + where + " ORDER BY id DESC LIMIT ?";
        return database == null ? select(sql, limit) : select(sql, database, limit);
    }

    /** How many rows the log holds. */
    public synchronized long count() {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM request")) {
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the query log " + file + ": " + e.getMessage(), e);
        }
    }

    /** A question and the SQL that answers it, as users confirmed or corrected it. */
    public record Pair(long id, String database, String question, String sql, boolean corrected) {}

    /**
     * The pairs feedback gave, oldest first: each question a user corrected, with the corrected SQL; with
     * {@code includeConfirmed}, also those whose generated SQL a user marked correct. {@code database} null: all.
     */
    public synchronized List<Pair> corrections(String database, boolean includeConfirmed) {
        String sql = "SELECT id, database, question, sql, feedback, corrected_sql FROM request WHERE status = 200 AND question IS NOT NULL"
                + " AND ((feedback = 0 AND corrected_sql IS NOT NULL)" + (includeConfirmed ? " OR (feedback = 1 AND sql IS NOT NULL)" : "") + ")"
                + (database == null ? "" : " AND database = ?") + " ORDER BY id";
        List<Pair> out = new ArrayList<>();
        for (Row r : database == null ? select(sql) : select(sql, database)) {
            boolean corrected = ((Number) r.get("feedback")).intValue() == 0;
            out.add(new Pair(r.id(), (String) r.get("database"), (String) r.get("question"),
                    (String) (corrected ? r.get("corrected_sql") : r.get("sql")), corrected));
        }
        return out;
    }

    private List<Row> select(String sql, Object... args) {
        try (PreparedStatement st = connection.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) bind(st, i + 1, args[i]);
            try (ResultSet rs = st.executeQuery()) {
                List<Row> out = new ArrayList<>();
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    for (int c = 1; c <= n; c++) m.put(rs.getMetaData().getColumnLabel(c), rs.getObject(c));
                    out.add(new Row(m));
                }
                return out;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the query log " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        close(connection);
    }
}
