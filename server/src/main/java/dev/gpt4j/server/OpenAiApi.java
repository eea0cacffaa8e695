package dev.gpt4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.inference.Generation;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.SpecialTokens;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * OpenAI-compatible {@code POST /v1/completions}, {@code POST /v1/chat/completions} and {@code GET /v1/models}, on the
 * generic {@link dev.gpt4j.inference.Generator} (no SQL constraint), so that any OpenAI client can use a gpt4j model.
 * Supported: {@code prompt} / {@code messages}, {@code max_tokens} (or {@code max_completion_tokens}),
 * {@code temperature} (OpenAI's default 1; 0 is greedy), {@code top_p}, {@code top_k} (a gpt4j extension, 0 = off),
 * {@code stop}, {@code seed}, {@code n} (up to 4) and {@code stream}; other fields are ignored, as OpenAI's own
 * clients send many.
 *
 * <p>A chat becomes one prompt. For a model with the text-to-SQL prompt's special tokens (the shipped one) it is that
 * prompt: the system messages are the schema (CREATE TABLE statements are put in the model's compact form), the last
 * user message the question, and the reply is the SQL the model writes, unconstrained. For any other model it is
 * {@code "system: ...\nuser: ...\nassistant:"}, stopping at a new {@code "\nuser:"} line.
 */
final class OpenAiApi {
    private static final SecureRandom SEEDS = new SecureRandom();

    private final BpeTokenizer tokenizer;
    private final int context;
    private final ModelWorker worker;
    private final QueryLog log;
    private final Limits limits;
    private final String modelName;
    private final PromptFormat sqlFormat; // null: the model has no text-to-SQL prompt

    OpenAiApi(BpeTokenizer tokenizer, int context, ModelWorker worker, QueryLog log, Limits limits, String modelName) {
        this.tokenizer = tokenizer;
        this.context = context;
        this.worker = worker;
        this.log = log;
        this.limits = limits;
        this.modelName = modelName;
        this.sqlFormat = tokenizer.specialTokens().keySet().containsAll(PromptFormat.SPECIAL_TOKENS) ? new PromptFormat(tokenizer) : null;
    }

    /** OpenAI's error shape, on one line. */
    static String error(ApiException e) {
        ObjectNode o = Json.object();
        ObjectNode err = o.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.status() == 401 ? "authentication_error" : e.status() >= 500 ? "server_error" : "invalid_request_error");
        err.putNull("param");
        err.putNull("code");
        return Json.write(o);
    }

    void models(Context ctx) {
        ObjectNode o = Json.object();
        o.put("object", "list");
        ObjectNode m = o.putArray("data").addObject();
        m.put("id", modelName);
        m.put("object", "model");
        m.put("created", 0);
        m.put("owned_by", "gpt4j");
        ctx.contentType("application/json").result(Json.write(o));
    }

    /** What a request asks for, checked. */
    private record Request(int[] prompt, String promptText, GenerationOptions options, int n, boolean stream, boolean includeUsage) {}

    void completions(Context ctx) {
        serve(ctx, false);
    }

    void chatCompletions(Context ctx) {
        serve(ctx, true);
    }

    private void serve(Context ctx, boolean chat) {
        long t0 = System.nanoTime();
        String endpoint = chat ? "chat/completions" : "completions";
        Request r = null;
        String promptText = null;
        try {
            ObjectNode body = Json.readObject(ctx.bodyInputStream(), ctx.req().getContentLengthLong(), limits.maxBodyBytes());
            r = chat ? chatRequest(body) : completionRequest(body);
            promptText = r.promptText();
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < r.n(); i++) prompts.add(r.prompt());
            long deadline = t0 + limits.requestTimeout().toNanos();
            LinkedBlockingQueue<Object> events = r.stream() ? new LinkedBlockingQueue<>() : null;
            var job = new ModelWorker.CompletionJob(prompts, r.options(), new int[0], deadline,
                    events == null ? null : (seq, tok) -> events.add(new int[] {seq, tok}));
            if (!worker.submit(job)) {
                throw new ApiException(503, "the queue is full (" + worker.capacity() + " requests waiting); try again shortly", Map.of("Retry-After", "1"));
            }
            String id = (chat ? "chatcmpl-" : "cmpl-") + Long.toHexString(System.nanoTime());
            long created = System.currentTimeMillis() / 1000;
            if (r.stream()) {
                stream(ctx, chat, r, job, events, id, created, t0, endpoint);
                return;
            }
            List<Generation> gens = await(job);
            long logId = log.insert(entry(endpoint, 200, null, r, gens, t0, job, ctx.ip()));
            ObjectNode o = Json.object();
            o.put("id", id + "-" + logId);
            o.put("object", chat ? "chat.completion" : "text_completion");
            o.put("created", created);
            o.put("model", modelName);
            ArrayNode choices = o.putArray("choices");
            for (int i = 0; i < gens.size(); i++) {
                ObjectNode c = choices.addObject();
                c.put("index", i);
                if (chat) {
                    ObjectNode m = c.putObject("message");
                    m.put("role", "assistant");
                    m.put("content", gens.get(i).text());
                } else {
                    c.put("text", gens.get(i).text());
                }
                c.putNull("logprobs");
                c.put("finish_reason", finishReason(gens.get(i)));
            }
            o.set("usage", usage(r, gens));
            ctx.contentType("application/json").result(Json.write(o));
        } catch (ApiException e) {
            log.insert(QueryLog.Entry.refused(endpoint, e.status(), e.getMessage(), null, promptText, modelName, ctx.ip()));
            throw e;
        }
    }

    private List<Generation> await(ModelWorker.CompletionJob job) {
        try {
            return job.result.get(Math.max(0, job.deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            job.result.cancel(false);
            throw new ApiException(503, "no answer within the time-out of " + limits.requestTimeout().toMillis() + " ms", Map.of("Retry-After", "1"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TimeoutException) {
                throw new ApiException(503, "no answer within the time-out of " + limits.requestTimeout().toMillis() + " ms", Map.of("Retry-After", "1"));
            }
            if (e.getCause() instanceof IllegalArgumentException iae) throw new ApiException(400, iae.getMessage());
            throw new IllegalStateException("generation failed: " + e.getCause(), e.getCause());
        }
    }

    private void stream(Context ctx, boolean chat, Request r, ModelWorker.CompletionJob job, LinkedBlockingQueue<Object> events, String id,
                        long created, long t0, String endpoint) {
        Object done = new Object();
        job.result.whenComplete((g, e) -> events.add(done));
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        TextStream[] texts = new TextStream[r.n()];
        for (int i = 0; i < texts.length; i++) texts[i] = new TextStream(tokenizer, r.options().stopStrings());
        long end = t0 + limits.streamTimeout().toNanos();
        try {
            OutputStream out = ctx.res().getOutputStream();
            if (chat) {
                for (int i = 0; i < r.n(); i++) {
                    ObjectNode delta = Json.object().put("role", "assistant").put("content", "");
                    SqlService.event(out, null, chunk(chat, id, created, i, delta, null));
                }
            }
            while (true) {
                long left = end - System.nanoTime();
                Object e = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
                if (e == null) {
                    job.result.cancel(false);
                    String msg = "the stream lasted longer than its limit of " + limits.streamTimeout().toMillis() + " ms";
                    log.insert(QueryLog.Entry.refused(endpoint, 503, msg, null, r.promptText(), modelName, ctx.ip()));
                    SqlService.event(out, null, error(new ApiException(503, msg)));
                    return;
                }
                if (e == done) break;
                int[] st = (int[]) e;
                String piece = texts[st[0]].push(st[1]);
                if (!piece.isEmpty()) SqlService.event(out, null, chunk(chat, id, created, st[0], piece, null));
            }
            List<Generation> gens;
            try {
                gens = await(job);
            } catch (ApiException ex) {
                log.insert(QueryLog.Entry.refused(endpoint, ex.status(), ex.getMessage(), null, r.promptText(), modelName, ctx.ip()));
                SqlService.event(out, null, error(ex));
                return;
            }
            log.insert(entry(endpoint, 200, null, r, gens, t0, job, ctx.ip())); // committed before the last events
            for (int i = 0; i < gens.size(); i++) {
                String rest = texts[i].finish(gens.get(i).text());
                if (!rest.isEmpty()) SqlService.event(out, null, chunk(chat, id, created, i, rest, null));
                SqlService.event(out, null, chunk(chat, id, created, i, chat ? Json.object() : "", finishReason(gens.get(i))));
            }
            if (r.includeUsage()) {
                ObjectNode u = Json.object();
                u.put("id", id);
                u.put("object", chat ? "chat.completion.chunk" : "text_completion");
                u.put("created", created);
                u.put("model", modelName);
                u.putArray("choices");
                u.set("usage", usage(r, gens));
                SqlService.event(out, null, u);
            }
            SqlService.event(out, null, "[DONE]");
        } catch (IOException e) {
            job.result.cancel(false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ObjectNode chunk(boolean chat, String id, long created, int index, Object content, String finish) {
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("object", chat ? "chat.completion.chunk" : "text_completion");
        o.put("created", created);
        o.put("model", modelName);
        ObjectNode c = o.putArray("choices").addObject();
        c.put("index", index);
        if (chat) {
            c.set("delta", content instanceof ObjectNode d ? d : Json.object().put("content", (String) content));
        } else {
            c.put("text", (String) content);
            c.putNull("logprobs");
        }
        if (finish == null) c.putNull("finish_reason");
        else c.put("finish_reason", finish);
        return o;
    }

    private static String finishReason(Generation g) {
        return switch (g.stopReason()) {
            case MAX_TOKENS, CONTEXT_FULL -> "length";
            default -> "stop";
        };
    }

    private ObjectNode usage(Request r, List<Generation> gens) {
        int completion = gens.stream().mapToInt(g -> g.tokens().length).sum();
        ObjectNode u = Json.object();
        u.put("prompt_tokens", r.prompt().length);
        u.put("completion_tokens", completion);
        u.put("total_tokens", r.prompt().length + completion);
        return u;
    }

    private QueryLog.Entry entry(String endpoint, int status, String error, Request r, List<Generation> gens, long t0, ModelWorker.Job<?> job,
                                 String client) {
        Generation g = gens.get(0);
        double queue = job.queueNanos() / 1e6, prefill = g.prefillNanos() / 1e6, decode = g.generateNanos() / 1e6;
        return new QueryLog.Entry(endpoint, status, error, null, r.promptText(), g.text(), null, null, null, null, null, null, r.prompt().length,
                g.tokens().length, round(queue), round(prefill), round(decode), null, round((System.nanoTime() - t0) / 1e6), modelName, null, client);
    }

    private static double round(double ms) {
        return Math.round(ms * 100) / 100.0;
    }

    // ------------------------------------------------------------------------------------------ requests

    private Request completionRequest(ObjectNode body) {
        JsonNode p = body.get("prompt");
        String prompt;
        if (p != null && p.isTextual()) prompt = p.asText();
        else if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) prompt = p.get(0).asText();
        else throw new ApiException(400, "prompt must be a string (or an array of one string)");
        if (prompt.isEmpty()) throw new ApiException(400, "prompt is empty");
        if (prompt.length() > limits.maxBodyBytes()) throw new ApiException(413, "prompt is too long");
        // a completion's prompt is the caller's own text in the model's format: special tokens are taken as such
        int[] ids = tokenizer.encode(prompt);
        return request(body, ids, prompt, 16, List.of());
    }

    private Request chatRequest(ObjectNode body) {
        JsonNode ms = body.get("messages");
        if (ms == null || !ms.isArray() || ms.isEmpty()) throw new ApiException(400, "messages must be a non-empty array");
        StringBuilder system = new StringBuilder();
        String question = null;
        List<String[]> turns = new ArrayList<>();
        for (JsonNode m : ms) {
            if (!m.isObject()) throw new ApiException(400, "each message must be an object with role and content");
            String role = m.path("role").asText("");
            String content = content(m.get("content"));
            switch (role) {
                case "system", "developer" -> system.append(system.length() == 0 ? "" : "\n").append(content);
                case "user" -> question = content;
                case "assistant" -> { }
                default -> throw new ApiException(400, "message role '" + role + "' is not supported (system, user, assistant)");
            }
            turns.add(new String[] {role, content});
        }
        if (question == null || question.isBlank()) throw new ApiException(400, "no user message with content");
        if (sqlFormat != null) {
            int[] ids = sqlPrompt(system.toString().strip(), question.strip(), body);
            return request(body, ids, question, 128, List.of());
        }
        StringBuilder t = new StringBuilder();
        for (String[] turn : turns) t.append(turn[0]).append(": ").append(turn[1].strip()).append('\n');
        t.append("assistant:");
        return request(body, tokenizer.encode(t.toString(), SpecialTokens.PLAIN_TEXT), question, 128, List.of("\nuser:"));
    }

    /** {@code <|schema|>} schema {@code <|question|>} question {@code <|sql|>}: the user's text can never forge a special token. */
    private int[] sqlPrompt(String system, String question, ObjectNode body) {
        Schema schema = null;
        if (system.regionMatches(true, 0, "CREATE", 0, 6) || system.contains("CREATE TABLE")) {
            try {
                schema = DdlSchemas.parse(system, "system message", "schema");
            } catch (RuntimeException e) {
                schema = null; // not DDL after all: taken as text below
            }
        }
        int reserve = Math.min(maxTokens(body, 128), context / 3);
        if (schema != null && !schema.tables().isEmpty()) {
            try {
                return sqlFormat.prompt(schema, question, context, reserve);
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, e.getMessage());
            }
        }
        int[] s = tokenizer.encode(system, SpecialTokens.PLAIN_TEXT), q = tokenizer.encode(question, SpecialTokens.PLAIN_TEXT);
        int[] out = new int[s.length + q.length + 3];
        out[0] = tokenizer.specialTokenId(PromptFormat.SCHEMA);
        System.arraycopy(s, 0, out, 1, s.length);
        out[1 + s.length] = tokenizer.specialTokenId(PromptFormat.QUESTION);
        System.arraycopy(q, 0, out, 2 + s.length, q.length);
        out[out.length - 1] = sqlFormat.sqlId();
        return out;
    }

    private static String content(JsonNode c) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        if (c.isArray()) { // [{type: "text", text: "..."}]
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText())) throw new ApiException(400, "only text content is supported");
                sb.append(part.path("text").asText());
            }
            return sb.toString();
        }
        throw new ApiException(400, "content must be a string or an array of text parts");
    }

    private int maxTokens(ObjectNode body, int fallback) {
        Long mt = Json.integer(body, "max_tokens");
        if (mt == null) mt = Json.integer(body, "max_completion_tokens");
        if (mt == null) return Math.min(fallback, limits.maxCompletionTokens());
        if (mt < 1 || mt > limits.maxCompletionTokens()) throw new ApiException(400, "max_tokens must be from 1 to " + limits.maxCompletionTokens());
        return mt.intValue();
    }

    private Request request(ObjectNode body, int[] prompt, String promptText, int defaultMaxTokens, List<String> templateStops) {
        if (prompt.length == 0) throw new ApiException(400, "the prompt has no tokens");
        if (prompt.length >= context) {
            throw new ApiException(400, "the prompt has " + prompt.length + " tokens: no room to generate in the model's context of " + context);
        }
        int maxTokens = maxTokens(body, defaultMaxTokens);
        Double temperature = Json.number(body, "temperature");
        Double topP = Json.number(body, "top_p");
        Long topK = Json.integer(body, "top_k");
        Long seed = Json.integer(body, "seed");
        Long n = Json.integer(body, "n");
        Boolean stream = Json.bool(body, "stream");
        if (n != null && (n < 1 || n > 4)) throw new ApiException(400, "n must be from 1 to 4");
        double t = temperature == null ? 1.0 : temperature;
        if (t < 0 || t > 2) throw new ApiException(400, "temperature must be from 0 to 2");
        double p = topP == null ? 1.0 : topP;
        if (!(p > 0 && p <= 1)) throw new ApiException(400, "top_p must be above 0 and at most 1");
        if (topK != null && (topK < 0 || topK > Integer.MAX_VALUE)) throw new ApiException(400, "top_k must be 0 (off) or more");
        List<String> stops = new ArrayList<>(templateStops);
        JsonNode s = body.get("stop");
        if (s != null && !s.isNull()) {
            if (s.isTextual()) stops.add(s.asText());
            else if (s.isArray() && s.size() <= 4) for (JsonNode x : s) {
                if (!x.isTextual()) throw new ApiException(400, "stop must be a string or an array of up to 4 strings");
                stops.add(x.asText());
            }
            else throw new ApiException(400, "stop must be a string or an array of up to 4 strings");
            if (stops.stream().anyMatch(String::isEmpty)) throw new ApiException(400, "a stop string must not be empty");
        }
        long sd = seed != null ? seed : SEEDS.nextLong() >>> 1;
        GenerationOptions options;
        try {
            options = new GenerationOptions(maxTokens, t, topK == null ? 0 : topK.intValue(), p, sd, stops);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
        boolean includeUsage = body.path("stream_options").path("include_usage").asBoolean(false);
        return new Request(prompt, promptText, options, n == null ? 1 : n.intValue(), stream != null && stream, includeUsage);
    }

    @Override
    public String toString() {
        return "OpenAiApi[" + modelName + ", context " + context + (sqlFormat == null ? "" : ", text-to-SQL chat template") + "]";
    }
}
