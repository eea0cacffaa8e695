package dev.gpt4j.server;

import java.time.Duration;

/**
 * What the service bounds, so that no request can take the whole machine: request body size, question length, rows
 * and bytes of a result, how many requests may wait for the model (past that: 503 with {@code Retry-After}), how long
 * a request may wait and be decoded, how long a query may run, how long a stream may last, how many questions are
 * decoded together, and the tokens a {@code /v1} completion may ask for.
 */
public record Limits(int maxBodyBytes, int maxQuestionChars, int maxRows, long maxResultBytes, int queueCapacity, Duration requestTimeout,
                     Duration queryTimeout, Duration streamTimeout, int batchSize, int maxCompletionTokens) {

    public Limits {
        if (maxBodyBytes < 1024 || maxQuestionChars < 1 || maxRows < 1 || maxResultBytes < 1 || queueCapacity < 1 || batchSize < 1
                || maxCompletionTokens < 1) {
            throw new IllegalArgumentException("limits must be positive (the body at least 1024 bytes): " + this);
        }
        for (Duration d : new Duration[] {requestTimeout, queryTimeout, streamTimeout}) {
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("time-outs must be positive: " + this);
        }
    }

    /**
     * 64 KB bodies, 1,000-character questions, 1,000 rows and 1 MB per result, 64 waiting requests, 30 s per request,
     * 5 s per query, 60 s per stream, batches of 8 (as {@code gpt4j ask}), 256-token completions.
     */
    public static Limits defaults() {
        return new Limits(64 * 1024, 1000, 1000, 1L << 20, 64, Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(60), 8,
                256);
    }

    public Limits withQueueCapacity(int n) {
        return new Limits(maxBodyBytes, maxQuestionChars, maxRows, maxResultBytes, n, requestTimeout, queryTimeout, streamTimeout, batchSize,
                maxCompletionTokens);
    }

    public Limits withRequestTimeout(Duration d) {
        return new Limits(maxBodyBytes, maxQuestionChars, maxRows, maxResultBytes, queueCapacity, d, queryTimeout, streamTimeout, batchSize,
                maxCompletionTokens);
    }

    public Limits withBatchSize(int n) {
        return new Limits(maxBodyBytes, maxQuestionChars, maxRows, maxResultBytes, queueCapacity, requestTimeout, queryTimeout, streamTimeout, n,
                maxCompletionTokens);
    }

    public Limits withResults(int rows, long bytes) {
        return new Limits(maxBodyBytes, maxQuestionChars, rows, bytes, queueCapacity, requestTimeout, queryTimeout, streamTimeout, batchSize,
                maxCompletionTokens);
    }

    public Limits withStreamTimeout(Duration d) {
        return new Limits(maxBodyBytes, maxQuestionChars, maxRows, maxResultBytes, queueCapacity, requestTimeout, queryTimeout, d, batchSize,
                maxCompletionTokens);
    }

    public Limits withBody(int bodyBytes, int questionChars) {
        return new Limits(bodyBytes, questionChars, maxRows, maxResultBytes, queueCapacity, requestTimeout, queryTimeout, streamTimeout, batchSize,
                maxCompletionTokens);
    }
}
