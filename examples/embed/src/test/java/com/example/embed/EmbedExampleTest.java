package com.example.embed;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Runs the example: the library answers, and the service answers under /sql/ of the application's own server. */
class EmbedExampleTest {
    @Test
    void answersThroughTheLibraryAndThroughTheMountedService(@TempDir Path tmp) throws Exception {
        Path root = Path.of(System.getProperty("gpt4j.root", "../..")).toAbsolutePath().normalize();
        try (EmbedExample app = EmbedExample.start(root, 0, tmp.resolve("queries.db"))) {
            assertTrue(app.firstAnswer().startsWith("SELECT"), app.firstAnswer());
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + app.port();
            HttpResponse<String> own = http.send(HttpRequest.newBuilder(URI.create(base + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(own.body().startsWith("My application"), own.statusCode() + " " + own.headers() + " " + own.body());
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/sql/")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(page.body().contains("Was this SQL correct?"));
            HttpResponse<String> ask = http.send(HttpRequest.newBuilder(URI.create(base + "/sql/api/ask"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"database\": \"employees\", \"question\": \"How many employees are there?\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ask.statusCode(), ask.body());
            assertTrue(ask.body().contains("\"sql\":\"" + app.firstAnswer() + "\""), "the service answers as the library did: " + ask.body());
            HttpResponse<String> bad = http.send(HttpRequest.newBuilder(URI.create(base + "/sql/api/ask"))
                    .POST(HttpRequest.BodyPublishers.ofString("{nope")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, bad.statusCode());
        }
    }
}
