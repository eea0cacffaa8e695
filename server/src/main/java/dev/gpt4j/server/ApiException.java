package dev.gpt4j.server;

import java.util.Map;

/**
 * A request the service answers with an error status and a one-line JSON body ({@code {"error": "..."}}, or OpenAI's
 * shape on {@code /v1}): bad input (4xx), a full queue or a time-out (503 with {@code Retry-After}).
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final Map<String, String> headers;

    public ApiException(int status, String message) {
        this(status, message, Map.of());
    }

    public ApiException(int status, String message, Map<String, String> headers) {
        super(oneLine(message));
        this.status = status;
        this.headers = Map.copyOf(headers);
    }

    public int status() {
        return status;
    }

    public Map<String, String> headers() {
        return headers;
    }

    /** A message on one line, at most 500 characters: what a client or a log line can show. */
    static String oneLine(String message) {
        String m = message == null ? "" : message.replaceAll("\\s+", " ").strip();
        return m.length() > 500 ? m.substring(0, 497) + "..." : m;
    }
}
