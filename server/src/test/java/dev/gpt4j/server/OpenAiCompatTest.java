package dev.gpt4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generator;
import dev.gpt4j.sql.TextToSql;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiLanguageModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The OpenAI-compatible endpoints through a client nobody here wrote (LangChain4j's OpenAI models), checked against
 * the generator called directly: the server must give exactly what greedy decoding of the same prompt gives.
 */
class OpenAiCompatTest {
    @TempDir
    static Path tmp;
    static TestServer s;
    static TextToSql reference;
    static final String TOKEN = "lc4j-token";

    @BeforeAll
    static void start() {
        s = new TestServer(tmp.resolve("log.db"), b -> b.token(TOKEN));
        s.token = TOKEN;
        reference = TextToSql.load(TestServer.MODEL);
    }

    @AfterAll
    static void stop() {
        s.close();
        reference.close();
    }

    /** Greedy decoding of the text-to-SQL prompt, as the chat template builds it. */
    static String greedySql(String ddl, String question, int maxTokens) {
        int ctx = reference.model().config().contextLength();
        int[] prompt = new PromptFormat(reference.tokenizer()).prompt(DdlSchemas.parse(ddl, "t", "schema"), question, ctx, Math.min(maxTokens, ctx / 3));
        return new Generator(reference.model(), reference.tokenizer()).generate(prompt, GenerationOptions.greedy(maxTokens)).text();
    }

    @Test
    void langChain4jChatsWithTheServer() throws Exception {
        String ddl = Files.readString(TestServer.DDL);
        String question = "How many employees are there?";
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(s.url + "/v1").apiKey(TOKEN).modelName("gpt4j-sql").temperature(0.0)
                .maxTokens(64).maxRetries(0).timeout(Duration.ofSeconds(60)).build();
        ChatResponse r = chat.chat(SystemMessage.from(ddl), UserMessage.from(question));
        String expected = greedySql(ddl, question, 64);
        assertEquals(expected, r.aiMessage().text());
        assertTrue(r.aiMessage().text().startsWith("SELECT"), r.aiMessage().text());
        assertEquals(FinishReason.STOP, r.finishReason());
        assertTrue(r.tokenUsage().inputTokenCount() > 20 && r.tokenUsage().outputTokenCount() > 0, r.tokenUsage().toString());

        // streamed: the pieces add up to the same text
        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(s.url + "/v1").apiKey(TOKEN).modelName("gpt4j-sql")
                .temperature(0.0).maxTokens(64).timeout(Duration.ofSeconds(60)).build();
        StringBuilder pieces = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(List.of(SystemMessage.from(ddl), UserMessage.from(question)), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                pieces.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse complete) {
                done.complete(complete);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse complete = done.get(60, TimeUnit.SECONDS);
        assertEquals(expected, pieces.toString());
        assertEquals(expected, complete.aiMessage().text());

        // a wrong key is the client's error, not the server's
        OpenAiChatModel wrong = OpenAiChatModel.builder().baseUrl(s.url + "/v1").apiKey("nope").modelName("gpt4j-sql").maxRetries(0).build();
        Exception e = assertThrows(Exception.class, () -> wrong.chat(UserMessage.from(question)));
        assertTrue(String.valueOf(e.getMessage()).contains("wrong bearer token"), String.valueOf(e.getMessage()));
    }

    @Test
    void langChain4jCompletesAPrompt() {
        OpenAiLanguageModel lm = OpenAiLanguageModel.builder().baseUrl(s.url + "/v1").apiKey(TOKEN).modelName("gpt4j-sql").temperature(0.0)
                .maxRetries(0).build();
        String prompt = "<|schema|> singer(singer_id number, name text, age number) <|question|> How many singers are there? <|sql|>";
        var r = lm.generate(prompt);
        // the completions default: 16 tokens
        String expected = new Generator(reference.model(), reference.tokenizer()).generate(prompt, GenerationOptions.greedy(16)).text();
        assertEquals(expected, r.content());
    }

    @Test
    void samplingSettingsStopStringsAndErrors() {
        String body = "{\"prompt\": \"SELECT\", \"max_tokens\": 12, \"temperature\": 0.9, \"top_k\": 40, \"top_p\": 0.95, \"seed\": 7, \"n\": 2}";
        JsonNode a = TestServer.json(s.post("/v1/completions", body)), b = TestServer.json(s.post("/v1/completions", body));
        assertEquals(2, a.get("choices").size());
        assertEquals(a.get("choices"), b.get("choices"), "one seed, one answer");
        assertEquals("text_completion", a.get("object").asText());
        String greedy = TestServer.json(s.post("/v1/completions", "{\"prompt\": \"SELECT\", \"max_tokens\": 12, \"temperature\": 0}"))
                .get("choices").get(0).get("text").asText();
        assertTrue(greedy.length() > 4, greedy);
        String stop = greedy.substring(2, 4);
        JsonNode cut = TestServer.json(s.post("/v1/completions", "{\"prompt\": \"SELECT\", \"max_tokens\": 12, \"temperature\": 0, \"stop\": ["
                + Json.write(stop) + "]}"));
        assertEquals(greedy.substring(0, greedy.indexOf(stop)), cut.get("choices").get(0).get("text").asText());
        assertEquals("stop", cut.get("choices").get(0).get("finish_reason").asText());
        // a stop string is never streamed, even in part
        var st = s.post("/v1/completions", "{\"prompt\": \"SELECT\", \"max_tokens\": 12, \"temperature\": 0, \"stream\": true, \"stop\": "
                + Json.write(stop) + "}");
        StringBuilder streamed = new StringBuilder();
        for (String line : st.body().split("\n")) {
            if (line.startsWith("data: {")) streamed.append(TestServer.json(line.substring(6)).get("choices").get(0).path("text").asText());
        }
        assertEquals(greedy.substring(0, greedy.indexOf(stop)), streamed.toString());
        assertTrue(st.body().strip().endsWith("data: [DONE]"), st.body());
        for (String bad : List.of("{\"prompt\": \"x\", \"temperature\": 5}", "{\"prompt\": 3}", "{\"prompt\": \"x\", \"max_tokens\": 0}",
                "{\"prompt\": \"x\", \"n\": 9}", "{\"prompt\": \"x\", \"stop\": [1]}", "{\"prompt\": \"x\", \"top_p\": 0}", "{\"prompt\": ")) {
            var r = s.post("/v1/completions", bad);
            assertEquals(400, r.statusCode(), bad + " -> " + r.body());
            assertFalse(r.body().contains("\n"));
            assertEquals("invalid_request_error", TestServer.json(r).get("error").get("type").asText(), r.body());
        }
        assertEquals(400, s.post("/v1/chat/completions", "{\"messages\": []}").statusCode());
        assertEquals(400, s.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}").statusCode());
        assertEquals("gpt4j-sql", TestServer.json(s.get("/v1/models")).get("data").get(0).get("id").asText());
    }
}
