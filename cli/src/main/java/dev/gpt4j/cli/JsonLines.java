package dev.gpt4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;

/**
 * Line-at-a-time filter from standard input to standard output, in constant memory. Output is flushed
 * whenever no more input is waiting, so it is fast in a pipe and prompt when a person types.
 */
final class JsonLines {
    private JsonLines() {}

    /** Transforms one input line (1-based {@code lineNo}) into one output line. */
    @FunctionalInterface
    interface LineFunction {
        String apply(String line, long lineNo) throws IOException;
    }

    static void filter(InputStream in, Writer out, LineFunction f) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
        String line;
        long lineNo = 0;
        try {
            while ((line = r.readLine()) != null) {
                lineNo++;
                out.write(f.apply(line, lineNo));
                out.write('\n');
                if (!r.ready()) out.flush();
            }
        } finally {
            out.flush(); // lines done before an error are kept
        }
    }

    /** Parses one input line as JSON; a line that is not valid JSON is an error naming the line. */
    static JsonNode parse(ObjectMapper om, String line, long lineNo, String expected) {
        try {
            JsonNode node = om.readTree(line);
            if (node == null) throw new CliException("standard input line " + lineNo + ": expected " + expected + ", got an empty line");
            return node;
        } catch (JsonProcessingException e) {
            throw new CliException("standard input line " + lineNo + ": not " + expected + ": " + e.getOriginalMessage());
        }
    }
}
