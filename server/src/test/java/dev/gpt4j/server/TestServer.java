package dev.gpt4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpt4j.sql.TextToSql;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** A real server on an ephemeral port with the shipped model and the example database, and an HTTP client for it. */
final class TestServer implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("gpt4j.root", "..")).toAbsolutePath().normalize();
    static final Path MODEL = ROOT.resolve("models/gpt4j-sql");
    static final Path DB = ROOT.resolve("examples/employees.db");
    static final Path DDL = ROOT.resolve("examples/employees.sql");

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    final SqlServer server;
    final String url;
    final Path log;
    String token;

    TestServer(Path log, UnaryOperator<SqlService.Builder> configure) {
        this(log, "127.0.0.1", configure);
    }

    TestServer(Path log, String host, UnaryOperator<SqlService.Builder> configure) {
        this.log = log;
        SqlService.Builder b = SqlService.builder(TextToSql.load(MODEL)).modelName("gpt4j-sql").log(log)
                .database(ServedDatabase.of("employees", DB, DDL));
        SqlService s = configure.apply(b).build();
        this.server = SqlServer.start(s, host, 0);
        this.url = "http://127.0.0.1:" + server.port();
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(60));
        if (token != null) r.header("Authorization", "Bearer " + token);
        return r;
    }

    HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    HttpResponse<String> post(String path, String body) {
        return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    static HttpResponse<String> send(HttpRequest r) {
        try {
            return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    static JsonNode json(HttpResponse<String> r) {
        try {
            return Json.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body(), e);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
