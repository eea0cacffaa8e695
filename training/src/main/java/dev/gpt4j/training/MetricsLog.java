package dev.gpt4j.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.tokenizer.AtomicFiles;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The metrics log: one JSON object per line ({@code step}, {@code tokens}, {@code loss}, {@code lr},
 * {@code grad_norm}, {@code tokens_per_s} (of the training steps since the previous row, evaluations not counted), and at evaluations {@code val_loss} / {@code accuracy}). On resume
 * the lines after the checkpoint's step are dropped, so the file reads as one uninterrupted run.
 */
public final class MetricsLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final List<ObjectNode> rows = new ArrayList<>();
    private BufferedWriter out;

    /** Opens {@code file}, keeping only rows with {@code step <= keepUpTo} (all rows if negative: none kept). */
    public MetricsLog(Path file, long keepUpTo) {
        this.file = file;
        try {
            if (Files.isRegularFile(file) && keepUpTo >= 0) {
                int lineNo = 0;
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    lineNo++;
                    if (line.isBlank()) continue;
                    JsonNode n;
                    try {
                        n = JSON.readTree(line);
                    } catch (IOException e) {
                        break; // a line cut by a kill: everything before it is kept
                    }
                    if (!(n instanceof ObjectNode o) || !n.has("step")) {
                        throw new IllegalArgumentException(file + " line " + lineNo + ": not a metrics row");
                    }
                    if (o.get("step").asLong() <= keepUpTo) rows.add(o);
                }
            }
            StringBuilder sb = new StringBuilder();
            for (ObjectNode o : rows) sb.append(JSON.writeValueAsString(o)).append('\n');
            AtomicFiles.write(file, o -> o.write(sb.toString().getBytes(StandardCharsets.UTF_8)));
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the metrics log " + file + ": " + e.getMessage(), e);
        }
    }

    public ObjectNode row(long step) {
        return JSON.createObjectNode().put("step", step);
    }

    public void write(ObjectNode row) {
        rows.add(row);
        try {
            out.write(JSON.writeValueAsString(row));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public List<ObjectNode> rows() {
        return rows;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
