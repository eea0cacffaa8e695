package dev.gpt4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** Every endpoint of a real server on an ephemeral port, with the shipped model and the example database. */
class ServerApiTest {
    @TempDir
    static Path tmp;
    static TestServer s;

    @BeforeAll
    static void start() {
        s = new TestServer(tmp.resolve("log.db"), b -> b.limits(Limits.defaults().withBody(4096, 200).withResults(3, 1L << 20)));
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    /** A 4xx with exactly one line of JSON, {"error": "..."}, whose message contains {@code expected}. */
    static void assertError(HttpResponse<String> r, int status, String expected) {
        assertEquals(status, r.statusCode(), r.body());
        assertFalse(r.body().contains("\n"), "one line: " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        String error = TestServer.json(r).get("error").asText();
        assertTrue(error.contains(expected), error);
    }

    @Test
    void asksRunsAndLogsBeforeReplying() {
        var r = s.post("/api/ask", "{\"database\": \"employees\", \"question\": \"How many employees are there?\"}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode a = TestServer.json(r);
        assertTrue(a.get("sql").asText().startsWith("SELECT"), a.toString());
        assertTrue(a.get("parses").asBoolean() && a.get("safe").asBoolean(), a.toString());
        assertTrue(a.get("refusal").isNull());
        assertTrue(a.get("rows").get("columns").size() > 0, a.toString());
        for (String t : List.of("prefill_ms", "decode_ms", "execute_ms", "total_ms")) assertTrue(a.get("timings").get(t).asDouble() >= 0, t);
        assertTrue(a.get("timings").get("prefill_ms").asDouble() > 0 && a.get("timings").get("decode_ms").asDouble() > 0, a.toString());
        // the row was committed before the reply: a second connection sees it at once
        try (QueryLog other = QueryLog.open(s.log)) {
            QueryLog.Row row = other.get(a.get("id").asLong());
            assertNotNull(row, "logged before the reply");
            assertEquals("How many employees are there?", row.get("question"));
            assertEquals(a.get("sql").asText(), row.get("sql"));
            assertEquals("employees", row.get("database"));
            assertEquals("gpt4j-sql", row.get("model"));
            assertEquals(1, ((Number) row.get("safe")).intValue());
            assertEquals(a.get("rows").get("rows").size(), ((Number) row.get("rows_returned")).intValue());
            assertEquals(200, ((Number) row.get("status")).intValue());
        }
        // without execution: no rows
        JsonNode b = TestServer.json(s.post("/api/ask", "{\"database\": \"employees\", \"question\": \"List the departments\", \"execute\": false}"));
        assertTrue(b.get("rows").isNull(), b.toString());
        assertEquals(0.0, b.get("timings").get("execute_ms").asDouble());
    }

    @Test
    void streamsTokensThenTheAnswer() {
        var r = s.get("/api/ask/stream?database=employees&question=List%20the%20names%20of%20all%20departments");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        StringBuilder streamed = new StringBuilder();
        JsonNode answer = null;
        int tokens = 0;
        for (String block : r.body().split("\n\n")) {
            String name = null, data = null;
            for (String line : block.split("\n")) {
                if (line.startsWith("event: ")) name = line.substring(7);
                if (line.startsWith("data: ")) data = line.substring(6);
            }
            if ("token".equals(name)) {
                streamed.append(TestServer.json(data).get("text").asText());
                tokens++;
            } else if ("answer".equals(name)) {
                answer = TestServer.json(data);
            }
        }
        assertNotNull(answer, r.body());
        assertTrue(tokens >= 3, "token by token: " + r.body());
        assertTrue(streamed.toString().strip().startsWith(answer.get("sql").asText()), streamed + " / " + answer);
        try (QueryLog other = QueryLog.open(s.log)) {
            assertEquals("ask/stream", other.get(answer.get("id").asLong()).get("endpoint"));
        }
        // bad input is a JSON 4xx before any event
        assertError(s.get("/api/ask/stream?database=nope&question=x"), 400, "unknown database 'nope'");
        assertError(s.get("/api/ask/stream?database=employees&question="), 400, "question is empty");
    }

    @Test
    void feedbackWithACorrectionIsCheckedRunAndLogged() {
        long id = TestServer.json(s.post("/api/ask", "{\"database\": \"employees\", \"question\": \"Average salary by department\"}")).get("id").asLong();
        String fix = "SELECT department_id, avg(salary) FROM employee GROUP BY department_id";
        var r = s.post("/api/feedback", "{\"id\": " + id + ", \"correct\": false, \"corrected_sql\": \"" + fix + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode f = TestServer.json(r);
        assertEquals(fix, f.get("corrected_sql").asText());
        assertEquals(3, f.get("rows").get("rows").size(), "the row limit of this server is 3");
        assertTrue(f.get("rows").get("truncated").asBoolean(), "5 departments, cut at 3");
        try (QueryLog other = QueryLog.open(s.log)) {
            QueryLog.Row row = other.get(id);
            assertEquals(0, ((Number) row.get("feedback")).intValue());
            assertEquals(fix, row.get("corrected_sql"));
            assertTrue(other.corrections("employees", false).stream().anyMatch(p -> p.id() == id && p.sql().equals(fix)));
        }
        JsonNode h = TestServer.json(s.get("/api/history?database=employees&limit=50"));
        boolean seen = false;
        for (JsonNode item : h.get("items")) {
            if (item.get("id").asLong() == id) {
                seen = true;
                assertEquals(fix, item.get("corrected_sql").asText());
                assertFalse(item.get("correct").asBoolean());
            }
        }
        assertTrue(seen, h.toString());
        // a correction must be safe, and run
        assertError(s.post("/api/feedback", "{\"id\": " + id + ", \"correct\": false, \"corrected_sql\": \"DELETE FROM employee\"}"), 400,
                "refused: DELETE is not a read-only query");
        assertError(s.post("/api/feedback", "{\"id\": " + id + ", \"correct\": false, \"corrected_sql\": \"SELECT 1; DROP TABLE employee\"}"), 400,
                "refused");
        assertError(s.post("/api/feedback", "{\"id\": " + id + ", \"correct\": false, \"corrected_sql\": \"SELECT nope FROM employee\"}"), 400,
                "fails on employees");
        // the 1 GB value SQLite used to build: refused by the lowered length limit, quickly
        long t0 = System.nanoTime();
        assertError(s.post("/api/feedback", "{\"id\": " + id + ", \"correct\": false, \"corrected_sql\": \"SELECT randomblob(1000000000)\"}"), 400,
                "limit of 1048576 bytes");
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refused before building the value");
        assertError(s.post("/api/feedback", "{\"id\": 999999, \"correct\": true}"), 404, "no request with id 999999");
        assertError(s.post("/api/feedback", "{\"id\": " + id + "}"), 400, "correct is missing");
        assertError(s.post("/api/feedback", "{\"id\": " + id + ", \"correct\": true, \"corrected_sql\": \"SELECT 1\"}"), 400,
                "corrected_sql goes with correct: false");
        assertError(s.post("/api/feedback", "{\"id\": \"x\", \"correct\": true}"), 400, "id must be an integer");
        // the last feedback wins
        assertEquals(200, s.post("/api/feedback", "{\"id\": " + id + ", \"correct\": true}").statusCode());
        try (QueryLog other = QueryLog.open(s.log)) {
            assertEquals(1, ((Number) other.get(id).get("feedback")).intValue());
            assertNull(other.get(id).get("corrected_sql"));
        }
    }

    @Test
    void databasesHealthHistoryAndThePage() {
        JsonNode d = TestServer.json(s.get("/api/databases")).get("databases");
        assertEquals(1, d.size());
        assertEquals("employees", d.get(0).get("name").asText());
        assertTrue(d.get(0).get("ddl").asText().contains("CREATE TABLE employee"), d.toString());
        assertEquals(3, d.get(0).get("tables").size());
        JsonNode h = TestServer.json(s.get("/api/health"));
        assertEquals("ok", h.get("status").asText());
        assertEquals(64, h.get("queue").get("capacity").asInt());
        assertEquals(SqlService.defaultModelThreads(), h.get("queue").get("model_threads").asInt());
        assertError(s.get("/api/history?limit=0"), 400, "limit must be an integer from 1 to 500");
        assertError(s.get("/api/history?limit=x"), 400, "limit must be an integer");
        assertError(s.get("/api/history?database=nope"), 400, "unknown database 'nope'");
        var page = s.get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("Was this SQL correct?"));
        assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
        assertEquals(200, s.get("/assets/app.js").statusCode());
        assertEquals(200, s.get("/assets/app.css").statusCode());
        assertError(s.get("/nope"), 404, "no such endpoint");
        // no CORS unless asked
        var cors = s.send(s.request("/api/health").header("Origin", "https://elsewhere.example").GET().build());
        assertTrue(cors.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
    }

    @Test
    void badInputIsAOneLine4xxAndTheServerKeepsServing() {
        assertError(s.post("/api/ask", "{\"database\": \"employees\", \"question\": "), 400, "malformed JSON");
        assertError(s.post("/api/ask", "not json"), 400, "malformed JSON");
        assertError(s.post("/api/ask", ""), 400, "body is empty");
        assertError(s.post("/api/ask", "[1, 2]"), 400, "must be a JSON object");
        assertError(s.post("/api/ask", "{\"database\": \"nope\", \"question\": \"How many?\"}"), 400, "unknown database 'nope' (served: employees)");
        assertError(s.post("/api/ask", "{\"database\": \"employees\", \"question\": \"   \"}"), 400, "question is empty");
        assertError(s.post("/api/ask", "{\"database\": \"employees\"}"), 400, "question is empty");
        assertError(s.post("/api/ask", "{\"database\": \"employees\", \"question\": 42}"), 400, "question must be a string");
        assertError(s.post("/api/ask", "{\"database\": \"employees\", \"question\": \"q\", \"execute\": \"yes\"}"), 400, "execute must be true or false");
        assertError(s.post("/api/ask", "{\"database\": \"employees\", \"questoin\": \"typo\"}"), 400, "unknown field 'questoin'");
        assertError(s.post("/api/ask", "{\"database\": \"employees\", \"question\": \"" + "x".repeat(201) + "\"}"), 413, "limit of 200");
        assertError(s.post("/api/ask", "{\"database\": \"employees\", \"question\": \"" + "x".repeat(5000) + "\"}"), 413, "limit of 4096 bytes");
        // refused requests are logged too, with their status
        try (QueryLog other = QueryLog.open(s.log)) {
            assertTrue(other.count() > 0);
        }
        assertEquals(200, s.post("/api/ask", "{\"database\": \"employees\", \"question\": \"How many projects?\", \"execute\": false}").statusCode());
    }

    @Test
    void aFullQueueAnswers503WithRetryAfterAndLateAnswersTimeOut(@TempDir Path dir) throws Exception {
        try (TestServer small = new TestServer(dir.resolve("q.db"), b -> b.limits(Limits.defaults().withQueueCapacity(1).withBatchSize(1)))) {
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<Future<HttpResponse<String>>> fs = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                fs.add(pool.submit(() -> small.post("/api/ask", "{\"database\": \"employees\", \"question\": \"Show me the average salary by department\"}")));
            }
            int ok = 0, busy = 0;
            for (var f : fs) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 200) ok++;
                else {
                    assertError(r, 503, "the queue is full (1 requests waiting)");
                    assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
                    busy++;
                }
            }
            pool.shutdown();
            assertTrue(ok >= 1 && busy >= 1, ok + " ok, " + busy + " busy");
            assertEquals(200, small.post("/api/ask", "{\"database\": \"employees\", \"question\": \"How many?\"}").statusCode(), "still serving");
        }
        try (TestServer slow = new TestServer(dir.resolve("t.db"), b -> b.limits(Limits.defaults().withRequestTimeout(Duration.ofMillis(1))))) {
            var r = slow.post("/api/ask", "{\"database\": \"employees\", \"question\": \"How many employees?\"}");
            assertError(r, 503, "no answer within the time-out of 1 ms");
            var st = slow.get("/api/ask/stream?database=employees&question=How%20many%20employees%3F");
            assertTrue(st.body().contains("event: error") && st.body().contains("time-out"), st.body());
        }
    }

    /**
     * A stream that outlives its limit ends with an error event, on both streaming endpoints, and is logged as refused
     * with the reason; the request's own time-out (30 s) is far away, so only the stream limit can end it.
     */
    @Test
    void aStreamLongerThanItsLimitEndsWithAnErrorAndIsLogged(@TempDir Path dir) {
        try (TestServer brief = new TestServer(dir.resolve("s.db"), b -> b.limits(Limits.defaults().withStreamTimeout(Duration.ofMillis(1))))) {
            String msg = "the stream lasted longer than its limit of 1 ms";
            var st = brief.get("/api/ask/stream?database=employees&question=Show%20me%20the%20average%20salary%20by%20department");
            assertEquals(200, st.statusCode());
            assertTrue(st.body().contains("event: error") && st.body().contains(msg), st.body());
            assertFalse(st.body().contains("event: answer"), st.body());
            var oa = brief.post("/v1/completions", "{\"prompt\": \"SELECT\", \"max_tokens\": 64, \"temperature\": 0, \"stream\": true}");
            assertTrue(oa.body().contains(msg) && !oa.body().contains("[DONE]"), oa.body());
            try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + brief.log);
                 java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT endpoint, status, error FROM request ORDER BY id")) {
                List<String> rows = new ArrayList<>();
                while (rs.next()) rows.add(rs.getString(1) + " " + rs.getInt(2) + " " + rs.getString(3));
                assertEquals(List.of("ask/stream 503 " + msg, "completions 503 " + msg), rows);
            } catch (java.sql.SQLException e) {
                throw new AssertionError(e);
            }
            assertEquals(200, brief.post("/api/ask", "{\"database\": \"employees\", \"question\": \"How many?\"}").statusCode(), "still serving");
        }
    }

    @Test
    void aTokenIsNeededWhenSetAndAnyOtherHostNeedsOne(@TempDir Path dir) {
        try (TestServer locked = new TestServer(dir.resolve("a.db"), b -> b.token("s3cret").corsOrigins(List.of("https://intranet.example")))) {
            assertError(locked.post("/api/ask", "{\"database\": \"employees\", \"question\": \"How many?\"}"), 401, "needs Authorization: Bearer");
            assertEquals("Bearer", locked.post("/api/ask", "{}").headers().firstValue("WWW-Authenticate").orElse(null));
            locked.token = "wrong";
            assertError(locked.get("/api/databases"), 401, "wrong bearer token");
            assertError(locked.get("/api/history"), 401, "wrong bearer token");
            assertTrue(locked.post("/v1/completions", "{\"prompt\": \"SELECT\"}").body().contains("authentication_error"));
            locked.token = "s3cret";
            assertEquals(200, locked.get("/api/databases").statusCode());
            locked.token = null;
            assertEquals(200, locked.get("/api/health").statusCode(), "health needs no token");
            assertEquals(200, locked.get("/").statusCode(), "nor does the page, which holds no data");
            // CORS for the origin asked for, and only that one
            var pre = TestServer.send(locked.request("/api/ask").header("Origin", "https://intranet.example")
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
            assertEquals(204, pre.statusCode());
            assertEquals("https://intranet.example", pre.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            assertTrue(pre.headers().firstValue("Access-Control-Allow-Headers").orElse("").contains("Authorization"));
            var other = TestServer.send(locked.request("/api/health").header("Origin", "https://evil.example").GET().build());
            assertTrue(other.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TestServer(dir.resolve("b.db"), "0.0.0.0", b -> b));
        assertTrue(e.getMessage().contains("--token"), e.getMessage());
    }
}
