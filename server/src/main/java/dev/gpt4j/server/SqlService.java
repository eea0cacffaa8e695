package dev.gpt4j.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.core.LoraAdapter;
import dev.gpt4j.data.QueryResult;
import dev.gpt4j.data.SqlCheck;
import dev.gpt4j.data.SqlExecutionException;
import dev.gpt4j.data.SqlGuard;
import dev.gpt4j.data.SqliteDatabase;
import dev.gpt4j.sql.SqlAnswer;
import dev.gpt4j.sql.TextToSql;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The text-to-SQL assistant as HTTP handlers, the page and the query log, to mount in any Javalin 7 application:
 *
 * <pre>{@code
 * SqlService service = SqlService.builder(TextToSql.load(Path.of("models/gpt4j-sql")))
 *         .database(ServedDatabase.of("employees", Path.of("examples/employees.db"), null))
 *         .log(Path.of("queries.db"))
 *         .build();
 * Javalin.create(config -> service.mount(config, "/sql")).start(8080);   // the page at /sql/, the API at /sql/api/...
 * }</pre>
 *
 * The service owns the {@link TextToSql} from then on (one thread decodes, see {@link ModelWorker}) and closes it,
 * with the log, in {@link #close()}. Every handler answers bad input with a 4xx and a one-line JSON error, writes the
 * request's log row (committed) before its reply, and needs {@code Authorization: Bearer TOKEN} when a token is set
 * (all but the page and {@code /api/health}). Cross-origin requests are refused by browsers unless origins are given.
 */
public final class SqlService implements AutoCloseable {
    private static final Set<String> ASK_FIELDS = Set.of("database", "question", "execute");
    private static final Set<String> FEEDBACK_FIELDS = Set.of("id", "correct", "corrected_sql");
    /** The page's policy: nothing but its own files, no inline script; model output is never HTML anyway. */
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /** Set on every request a service handler answered, so that an application's error handlers can leave it alone. */
    public static final String HANDLED = "gpt4j.handled";

    private final TextToSql t2s;
    private final Map<String, ServedDatabase> databases;
    private final Map<String, String> adapterLabels;
    private final QueryLog log;
    private final boolean ownsLog;
    private final Limits limits;
    private final byte[] token;
    private final Set<String> corsOrigins;
    private final String modelName;
    private final ModelWorker worker;
    private final OpenAiApi openAi;
    private final Map<String, byte[]> assets = new LinkedHashMap<>();
    private final long startedMillis = System.currentTimeMillis();

    private SqlService(Builder b) {
        this.t2s = b.t2s;
        this.databases = Map.copyOf(b.databases);
        this.adapterLabels = Map.copyOf(b.adapterLabels);
        this.ownsLog = b.log == null;
        this.log = b.log != null ? b.log : QueryLog.open(b.logFile);
        this.limits = b.limits;
        this.token = b.token == null ? null : b.token.getBytes(StandardCharsets.UTF_8);
        this.corsOrigins = Set.copyOf(b.corsOrigins);
        this.modelName = b.modelName;
        this.worker = new ModelWorker(t2s, limits.queueCapacity(), limits.batchSize(), b.modelThreads, b.closeWaitNanos);
        this.openAi = new OpenAiApi(t2s.tokenizer(), t2s.model().config().contextLength(), worker, log, limits, modelName);
        for (String f : List.of("index.html", "app.js", "app.css")) assets.put(f, resource("web/" + f));
    }

    /**
     * Two model threads on a machine with two or more cores, else one. A question's products on the example model are a
     * few hundred microseconds each, too short for a second core to halve, so under load a second batch decoding at the
     * same time is the better use of it (BENCHMARKS.md: 1.5x the answers per second at 16 clients, one client as fast).
     */
    public static int defaultModelThreads() {
        return Math.min(2, Runtime.getRuntime().availableProcessors());
    }

    public static Builder builder(TextToSql t2s) {
        return new Builder(t2s);
    }

    /** How a service is put together; {@link #build()} checks it. */
    public static final class Builder {
        private final TextToSql t2s;
        private final Map<String, ServedDatabase> databases = new LinkedHashMap<>();
        private final Map<String, String> adapterLabels = new LinkedHashMap<>();
        private QueryLog log;
        private Path logFile = Path.of("gpt4j-queries.db");
        private Limits limits = Limits.defaults();
        private String token;
        private List<String> corsOrigins = List.of();
        private String modelName = "gpt4j";
        private int modelThreads = defaultModelThreads();
        private long closeWaitNanos = 30_000_000_000L;

        private Builder(TextToSql t2s) {
            if (t2s == null) throw new IllegalArgumentException("no model");
            this.t2s = t2s;
        }

        public Builder database(ServedDatabase db) {
            if (databases.putIfAbsent(db.name(), db) != null) throw new IllegalArgumentException("database " + db.name() + " is given twice");
            return this;
        }

        /**
         * Loads a LoRA adapter (a PEFT folder) for the questions about {@code database}, which must be added first; the
         * model switches to it for each batch of that database's questions.
         */
        public Builder adapter(String database, Path dir) {
            ServedDatabase db = databases.get(database);
            if (db == null) throw new IllegalArgumentException("--adapter " + database + ": no database of that name (give --db first)");
            if (db.adapter() != null) throw new IllegalArgumentException("database " + database + " already has an adapter");
            LoraAdapter a = LoraAdapter.load(dir, t2s.model().config());
            t2s.model().addAdapter(database, a);
            databases.put(database, db.withAdapter(database));
            adapterLabels.put(database, dir.getFileName() == null ? dir.toString() : dir.getFileName().toString());
            return this;
        }

        /** The query log file (created if missing); the service opens and closes it. */
        public Builder log(Path file) {
            this.logFile = file;
            this.log = null;
            return this;
        }

        /** A query log the caller opened (and closes). */
        public Builder log(QueryLog open) {
            this.log = open;
            return this;
        }

        public Builder limits(Limits l) {
            this.limits = l;
            return this;
        }

        /** Requests must carry {@code Authorization: Bearer token} (null: none needed). */
        public Builder token(String t) {
            if (t != null && t.isBlank()) throw new IllegalArgumentException("the token is empty");
            this.token = t;
            return this;
        }

        /** Origins (e.g. {@code https://intranet.example}) whose pages may call the API; none by default. */
        public Builder corsOrigins(List<String> origins) {
            this.corsOrigins = List.copyOf(origins);
            return this;
        }

        /** The model's name in replies and the log (the model folder's name, say). */
        public Builder modelName(String name) {
            this.modelName = name;
            return this;
        }

        /**
         * How many threads run the model, each decoding a batch of its own ({@link #defaultModelThreads()} by default).
         * From two on, the others answer with replicas of the model (its weights shared, not copied; see
         * {@link dev.gpt4j.core.GptModel#replica}), and OpenBLAS runs on one thread in this process.
         */
        public Builder modelThreads(int n) {
            if (n < 1 || n > 64) throw new IllegalArgumentException("model threads must be 1 to 64, not " + n);
            this.modelThreads = n;
            return this;
        }

        /** How long {@link SqlService#close} waits for the questions being decoded (30 s by default; tests shorten it). */
        Builder closeWait(long nanos) {
            this.closeWaitNanos = nanos;
            return this;
        }

        public SqlService build() {
            if (databases.isEmpty()) throw new IllegalArgumentException("no database to serve");
            return new SqlService(this);
        }
    }

    public Map<String, ServedDatabase> databases() {
        return databases;
    }

    public QueryLog log() {
        return log;
    }

    public Limits limits() {
        return limits;
    }

    /** Whether requests need {@code Authorization: Bearer TOKEN}. */
    public boolean requiresToken() {
        return token != null;
    }

    /** Adds the page and every endpoint under {@code prefix} ("" or a path such as "/sql") to an application's routes. */
    public void mount(JavalinConfig config, String prefix) {
        String p = prefix == null || prefix.equals("/") ? "" : prefix.replaceAll("/+$", "");
        if (!p.isEmpty() && !p.startsWith("/")) throw new IllegalArgumentException("the prefix must start with '/': " + prefix);
        var r = config.routes;
        // the page's relative links need the slash: /sql is sent to /sql/ (Javalin matches both to one route by default)
        Handler page = ctx -> {
            if (!p.isEmpty() && !ctx.path().endsWith("/")) ctx.redirect(p + "/");
            else asset(ctx, "index.html", "text/html; charset=utf-8");
        };
        r.get(p + "/", page);
        if (!p.isEmpty() && !config.router.ignoreTrailingSlashes) r.get(p, page);
        r.get(p + "/assets/app.js", ctx -> asset(ctx, "app.js", "text/javascript; charset=utf-8"));
        r.get(p + "/assets/app.css", ctx -> asset(ctx, "app.css", "text/css; charset=utf-8"));
        r.post(p + "/api/ask", api(this::ask, true, false));
        r.get(p + "/api/ask/stream", api(this::askStream, true, false));
        r.post(p + "/api/feedback", api(this::feedback, true, false));
        r.get(p + "/api/history", api(this::history, true, false));
        r.get(p + "/api/databases", api(this::databasesHandler, true, false));
        r.get(p + "/api/health", api(this::health, false, false));
        r.get(p + "/v1/models", api(openAi::models, true, true));
        r.post(p + "/v1/completions", api(openAi::completions, true, true));
        r.post(p + "/v1/chat/completions", api(openAi::chatCompletions, true, true));
        if (!corsOrigins.isEmpty()) {
            for (String path : List.of("/api/ask", "/api/ask/stream", "/api/feedback", "/api/history", "/api/databases", "/api/health",
                    "/v1/models", "/v1/completions", "/v1/chat/completions")) {
                r.options(p + path, this::preflight);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ plumbing

    /** Wraps a handler: CORS, the token, and every error as a one-line JSON reply (OpenAI's shape on /v1). */
    private Handler api(Handler h, boolean needsToken, boolean openAiErrors) {
        return ctx -> {
            ctx.attribute(HANDLED, Boolean.TRUE); // a host's error pages must not replace this handler's own 404s
            cors(ctx);
            ctx.header("Cache-Control", "no-store");
            try {
                if (needsToken) authorize(ctx);
                h.handle(ctx);
            } catch (ApiException e) {
                sendError(ctx, e, openAiErrors);
            } catch (Exception e) {
                System.err.println("gpt4j serve: " + ctx.method() + " " + ctx.path() + ": " + e);
                sendError(ctx, new ApiException(500, "internal error: " + e.getMessage()), openAiErrors);
            }
        };
    }

    private static void sendError(Context ctx, ApiException e, boolean openAiErrors) {
        if (ctx.res().isCommitted()) return; // a stream already under way reports its own errors as events
        e.headers().forEach(ctx::header);
        ctx.status(e.status()).contentType("application/json").result(openAiErrors ? OpenAiApi.error(e) : Json.error(e.getMessage()));
    }

    private void authorize(Context ctx) {
        if (token == null) return;
        String h = ctx.header("Authorization");
        byte[] given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).strip().getBytes(StandardCharsets.UTF_8) : null;
        if (given == null || !MessageDigest.isEqual(given, token)) { // constant time: the token cannot be guessed byte by byte
            throw new ApiException(401, given == null ? "this server needs Authorization: Bearer TOKEN" : "wrong bearer token",
                    Map.of("WWW-Authenticate", "Bearer"));
        }
    }

    private void cors(Context ctx) {
        String origin = ctx.header("Origin");
        if (origin != null && corsOrigins.contains(origin)) {
            ctx.header("Access-Control-Allow-Origin", origin);
            ctx.header("Vary", "Origin");
        }
    }

    private void preflight(Context ctx) {
        cors(ctx);
        ctx.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        ctx.header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        ctx.header("Access-Control-Max-Age", "600");
        ctx.status(204);
    }

    private void asset(Context ctx, String name, String type) {
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("Cache-Control", "no-cache");
        ctx.contentType(type).result(assets.get(name));
    }

    private static byte[] resource(String name) {
        try (InputStream in = SqlService.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("the page's file " + name + " is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sendJson(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json").result(Json.write(body));
    }

    private ObjectNode body(Context ctx) {
        return Json.readObject(ctx.bodyInputStream(), ctx.req().getContentLengthLong(), limits.maxBodyBytes());
    }

    // ------------------------------------------------------------------------------------------ asking

    /** A checked question: the database, the question, whether to run the SQL. */
    private record Ask(ServedDatabase db, String question, boolean execute) {}

    private Ask checkAsk(String database, String question, Boolean execute) {
        if (database == null || database.isBlank()) {
            if (databases.size() != 1) throw new ApiException(400, "database is missing (served: " + String.join(", ", databases.keySet()) + ")");
            database = databases.keySet().iterator().next();
        }
        ServedDatabase db = databases.get(database);
        if (db == null) throw new ApiException(400, "unknown database '" + database + "' (served: " + String.join(", ", databases.keySet()) + ")");
        if (question == null || question.isBlank()) throw new ApiException(400, "question is empty");
        if (question.length() > limits.maxQuestionChars()) {
            throw new ApiException(413, "question is " + question.length() + " characters, more than the limit of " + limits.maxQuestionChars());
        }
        return new Ask(db, question.strip(), execute == null || execute);
    }

    /** What one question came to: the answer, its waits and timings, and the rows or the execution's error. */
    private record Outcome(Ask ask, SqlAnswer answer, long queueNanos, QueryResult rows, String error, double executeMs, double totalMs) {}

    private ModelWorker.SqlJob submit(Ask a, dev.gpt4j.inference.TokenListener listener) {
        long deadline = System.nanoTime() + limits.requestTimeout().toNanos();
        var job = new ModelWorker.SqlJob(a.db().schema(), a.question(), a.db().adapter(), deadline, listener);
        if (!worker.submit(job)) throw busy("the queue is full (" + worker.capacity() + " requests waiting)");
        return job;
    }

    private ApiException busy(String why) {
        return new ApiException(503, why + "; try again shortly", Map.of("Retry-After", "1"));
    }

    /** Waits for the job's answer (until the request's time-out) and runs its SQL if asked and safe. */
    private Outcome finish(Ask a, ModelWorker.SqlJob job, long t0) {
        SqlAnswer answer;
        try {
            long left = job.deadline - System.nanoTime();
            answer = job.result.get(Math.max(0, left), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            job.result.cancel(false); // if it still waits, the worker drops it
            throw busy("no answer within the time-out of " + limits.requestTimeout().toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof TimeoutException) throw busy("no answer within the time-out of " + limits.requestTimeout().toMillis() + " ms");
            if (c instanceof IllegalArgumentException) throw new ApiException(400, c.getMessage());
            if (c instanceof IllegalStateException && "the server is stopping".equals(c.getMessage())) throw busy("the server is stopping");
            throw new IllegalStateException("decoding failed: " + c, c);
        }
        QueryResult rows = null;
        String error = null;
        double executeMs = 0;
        if (a.execute() && answer.safe()) {
            long e0 = System.nanoTime();
            try (SqliteDatabase db = SqliteDatabase.open(a.db().file(), limits.queryTimeout(), limits.maxRows(), limits.maxResultBytes())) {
                rows = db.queryUntrusted(answer.sql());
            } catch (SqlExecutionException e) {
                error = e.getMessage();
            }
            executeMs = ms(System.nanoTime() - e0);
        }
        return new Outcome(a, answer, job.queueNanos(), rows, error, executeMs, ms(System.nanoTime() - t0));
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 1e4) / 100.0;
    }

    private QueryLog.Entry entry(String endpoint, int status, Outcome o, String client) {
        SqlAnswer a = o.answer();
        SqlCheck c = a.check();
        return new QueryLog.Entry(endpoint, status, o.error(), o.ask().db().name(), o.ask().question(), a.sql(), a.parses(), c.allowed(),
                c.allowed() ? null : c.reason(), o.rows() != null, o.rows() == null ? null : o.rows().rows().size(),
                o.rows() == null ? null : o.rows().truncated(), a.promptTokens(), a.sqlTokens(), ms(o.queueNanos()), ms(a.prefillNanos()),
                ms(a.decodeNanos()), o.executeMs(), o.totalMs(), modelName, adapterLabels.get(o.ask().db().name()), client);
    }

    private ObjectNode answerJson(long id, Outcome o) {
        SqlAnswer a = o.answer();
        ObjectNode j = Json.object();
        j.put("id", id);
        j.put("database", o.ask().db().name());
        j.put("question", o.ask().question());
        j.put("sql", a.sql());
        j.put("parses", a.parses());
        j.put("safe", a.safe());
        if (a.safe()) j.putNull("refusal");
        else j.put("refusal", a.check().reason());
        if (o.rows() == null) j.putNull("rows");
        else j.set("rows", rowsJson(o.rows()));
        if (o.error() == null) j.putNull("error");
        else j.put("error", o.error());
        ObjectNode t = j.putObject("timings");
        t.put("queue_ms", ms(o.queueNanos()));
        t.put("prefill_ms", ms(a.prefillNanos()));
        t.put("decode_ms", ms(a.decodeNanos()));
        t.put("execute_ms", o.executeMs());
        t.put("total_ms", o.totalMs());
        j.put("model", modelName);
        String adapter = adapterLabels.get(o.ask().db().name());
        if (adapter == null) j.putNull("adapter");
        else j.put("adapter", adapter);
        return j;
    }

    /** Columns, rows and {@code truncated}; values as JSON numbers, strings or null (blobs and non-finite numbers as text). */
    static ObjectNode rowsJson(QueryResult r) {
        ObjectNode j = Json.object();
        ArrayNode cols = j.putArray("columns");
        r.columns().forEach(cols::add);
        ArrayNode rows = j.putArray("rows");
        for (List<Object> row : r.rows()) {
            ArrayNode out = rows.addArray();
            for (Object v : row) {
                if (v == null) out.addNull();
                else if (v instanceof Long n) out.add(n);
                else if (v instanceof Integer n) out.add(n);
                else if (v instanceof Double d) {
                    if (Double.isFinite(d)) out.add(d);
                    else out.add(d.toString()); // JSON has no Infinity or NaN
                } else if (v instanceof byte[] b) out.add("<blob of " + b.length + " bytes>");
                else out.add(v.toString());
            }
        }
        j.put("truncated", r.truncated());
        return j;
    }

    private void ask(Context ctx) {
        long t0 = System.nanoTime();
        String database = null, question = null;
        try {
            ObjectNode body = body(ctx);
            Json.onlyFields(body, ASK_FIELDS);
            database = Json.string(body, "database");
            question = Json.string(body, "question");
            Ask a = checkAsk(database, question, Json.bool(body, "execute"));
            Outcome o = finish(a, submit(a, null), t0);
            long id = log.insert(entry("ask", 200, o, ctx.ip())); // committed before the reply
            sendJson(ctx, 200, answerJson(id, o));
        } catch (ApiException e) {
            log.insert(QueryLog.Entry.refused("ask", e.status(), e.getMessage(), database, question, modelName, ctx.ip()));
            throw e;
        }
    }

    /**
     * The same as {@link #ask} as server-sent events: {@code token} events ({@code {"text": piece}}) as the SQL is
     * written, then one {@code answer} event with what {@code POST /api/ask} returns (its SQL may differ from the
     * pieces: cut back to a complete query, or a fallback beam's), or one {@code error} event. Bad input is a 4xx JSON
     * reply before any event. A stream ends after the stream time-out whatever happens.
     */
    private void askStream(Context ctx) {
        long t0 = System.nanoTime();
        String database = ctx.queryParam("database"), question = ctx.queryParam("question");
        Ask a;
        ModelWorker.SqlJob job;
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        Object done = new Object();
        try {
            String ex = ctx.queryParam("execute");
            if (ex != null && !ex.equals("true") && !ex.equals("false")) throw new ApiException(400, "execute must be true or false");
            a = checkAsk(database, question, ex == null ? null : Boolean.parseBoolean(ex));
            job = submit(a, (seq, tok) -> events.add(tok));
            job.result.whenComplete((r, e) -> events.add(done));
        } catch (ApiException e) {
            log.insert(QueryLog.Entry.refused("ask/stream", e.status(), e.getMessage(), database, question, modelName, ctx.ip()));
            throw e;
        }
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        long streamEnd = t0 + limits.streamTimeout().toNanos();
        TextStream text = new TextStream(t2s.tokenizer(), List.of());
        try {
            OutputStream out = ctx.res().getOutputStream();
            event(out, "open", Json.object().put("database", a.db().name()));
            boolean finished = false;
            while (!finished) {
                // the stream ends at its own limit or at the request's time-out, whichever comes first
                boolean streamFirst = streamEnd - job.deadline <= 0;
                long left = (streamFirst ? streamEnd : job.deadline) - System.nanoTime();
                Object e = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
                if (e == null) {
                    job.result.cancel(false);
                    String msg = streamFirst ? "the stream lasted longer than its limit of " + limits.streamTimeout().toMillis() + " ms"
                            : busy("no answer within the time-out of " + limits.requestTimeout().toMillis() + " ms").getMessage();
                    log.insert(QueryLog.Entry.refused("ask/stream", 503, msg, a.db().name(), a.question(), modelName, ctx.ip()));
                    event(out, "error", Json.object().put("error", msg).put("status", 503));
                    return;
                }
                if (e instanceof Integer tok) {
                    String piece = text.push(tok);
                    if (!piece.isEmpty()) event(out, "token", Json.object().put("text", piece));
                } else {
                    finished = true;
                }
            }
            try {
                Outcome o = finish(a, job, t0);
                long id = log.insert(entry("ask/stream", 200, o, ctx.ip()));
                event(out, "answer", answerJson(id, o));
            } catch (ApiException e) {
                log.insert(QueryLog.Entry.refused("ask/stream", e.status(), e.getMessage(), a.db().name(), a.question(), modelName, ctx.ip()));
                event(out, "error", Json.object().put("error", e.getMessage()).put("status", e.status()));
            }
        } catch (IOException e) { // the client went away: nothing more to send
            job.result.cancel(false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void event(OutputStream out, String name, Object data) throws IOException {
        String s = (name == null ? "" : "event: " + name + "\n") + "data: " + (data instanceof String str ? str : Json.write(data)) + "\n\n";
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    // ------------------------------------------------------------------------------------------ feedback, history

    /**
     * {@code {id, correct, corrected_sql}}: whether the SQL of request {@code id} was right, and if not, optionally the
     * right SQL, which must pass {@link SqlGuard} and run on that request's database (its rows are returned).
     */
    private void feedback(Context ctx) {
        ObjectNode body = body(ctx);
        Json.onlyFields(body, FEEDBACK_FIELDS);
        Long id = Json.integer(body, "id");
        Boolean correct = Json.bool(body, "correct");
        String corrected = Json.string(body, "corrected_sql");
        if (id == null) throw new ApiException(400, "id is missing");
        if (correct == null) throw new ApiException(400, "correct is missing (true or false)");
        if (corrected != null && corrected.isBlank()) corrected = null;
        if (corrected != null && correct) throw new ApiException(400, "corrected_sql goes with correct: false");
        if (corrected != null && corrected.length() > limits.maxBodyBytes()) throw new ApiException(413, "corrected_sql is too long");
        QueryLog.Row row = log.get(id);
        if (row == null) throw new ApiException(404, "no request with id " + id);
        Object status = row.get("status");
        if (!(status instanceof Number n && n.intValue() == 200) || row.get("database") == null) {
            throw new ApiException(400, "request " + id + " has no answer to give feedback on");
        }
        String database = (String) row.get("database");
        ServedDatabase db = databases.get(database);
        ObjectNode reply = Json.object();
        if (corrected != null) {
            SqlCheck check = SqlGuard.check(corrected);
            if (!check.allowed()) throw new ApiException(400, "the corrected SQL is refused: " + check.reason());
            if (db == null) throw new ApiException(400, "database " + database + " of request " + id + " is not served now");
            try (SqliteDatabase sdb = SqliteDatabase.open(db.file(), limits.queryTimeout(), limits.maxRows(), limits.maxResultBytes())) {
                reply.set("rows", rowsJson(sdb.queryUntrusted(corrected)));
            } catch (SqlExecutionException e) {
                throw new ApiException(400, "the corrected SQL fails on " + database + ": " + e.getMessage());
            }
            corrected = check.sql();
        }
        log.feedback(id, correct, corrected); // committed before the reply
        reply.put("id", id);
        reply.put("correct", correct);
        if (corrected == null) reply.putNull("corrected_sql");
        else reply.put("corrected_sql", corrected);
        if (!reply.has("rows")) reply.putNull("rows");
        sendJson(ctx, 200, reply);
    }

    private void history(Context ctx) {
        String database = ctx.queryParam("database");
        if (database != null && database.isBlank()) database = null;
        if (database != null && !databases.containsKey(database)) throw new ApiException(400, "unknown database '" + database + "'");
        int limit = 50;
        String l = ctx.queryParam("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                throw new ApiException(400, "limit must be an integer from 1 to 500");
            }
            if (limit < 1 || limit > 500) throw new ApiException(400, "limit must be an integer from 1 to 500");
        }
        ArrayNode items = Json.MAPPER.createArrayNode();
        for (QueryLog.Row r : log.history(database, limit)) {
            ObjectNode o = items.addObject();
            o.put("id", r.id());
            for (String c : List.of("time", "database", "question", "sql", "refusal", "error", "corrected_sql")) {
                Object v = r.get(c);
                if (v == null) o.putNull(c);
                else o.put(c, v.toString());
            }
            o.put("safe", r.get("safe") instanceof Number n && n.intValue() == 1);
            Object rows = r.get("rows_returned");
            if (rows instanceof Number n) o.put("rows_returned", n.intValue());
            else o.putNull("rows_returned");
            Object fb = r.get("feedback");
            if (fb instanceof Number n) o.put("correct", n.intValue() == 1);
            else o.putNull("correct");
        }
        ObjectNode reply = Json.object();
        reply.set("items", items);
        sendJson(ctx, 200, reply);
    }

    private void databasesHandler(Context ctx) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (ServedDatabase db : databases.values()) {
            ObjectNode o = list.addObject();
            o.put("name", db.name());
            o.put("ddl", db.ddl());
            ArrayNode tables = o.putArray("tables");
            for (var t : db.schema().tables()) {
                ObjectNode tj = tables.addObject();
                tj.put("name", t.name());
                ArrayNode cols = tj.putArray("columns");
                for (var c : t.columns()) cols.addObject().put("name", c.name()).put("type", c.type());
            }
            String adapter = adapterLabels.get(db.name());
            if (adapter == null) o.putNull("adapter");
            else o.put("adapter", adapter);
        }
        ObjectNode reply = Json.object();
        reply.set("databases", list);
        sendJson(ctx, 200, reply);
    }

    private void health(Context ctx) {
        ObjectNode o = Json.object();
        o.put("status", "ok");
        o.put("model", modelName);
        o.put("databases", databases.size());
        o.put("auth", token != null);
        ObjectNode q = o.putObject("queue");
        q.put("waiting", worker.waiting());
        q.put("capacity", worker.capacity());
        q.put("model_threads", worker.threads());
        long[] b = worker.batchStats();
        q.put("batches", b[0]);
        q.put("mean_batch", b[0] == 0 ? 0 : Math.round(100.0 * b[1] / b[0]) / 100.0);
        o.put("uptime_s", (System.currentTimeMillis() - startedMillis) / 1000);
        sendJson(ctx, 200, o);
    }

    /**
     * Stops the model's threads (failing what waits, waiting up to 30 s for what they decode), closes the model and, if
     * the service opened it, the log. A model thread still decoding after the wait keeps the model: its native memory is
     * then freed only when the process ends, not under a running forward.
     */
    @Override
    public void close() {
        worker.close();
        if (worker.stopped()) t2s.close();
        if (ownsLog) log.close();
    }

    /** The threads that run the model (tests hand them jobs directly). */
    ModelWorker worker() {
        return worker;
    }

    /** The names of the served databases, for messages. */
    List<String> names() {
        return new ArrayList<>(databases.keySet());
    }
}
