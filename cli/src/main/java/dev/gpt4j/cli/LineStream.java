package dev.gpt4j.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * A PrintStream over a command's PrintWriter, line by line (UTF-8), for library code that logs to a PrintStream
 * (the trainer): its lines then go where the command's output goes, in tests too.
 */
final class LineStream extends OutputStream {
    private final PrintWriter out;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private LineStream(PrintWriter out) {
        this.out = out;
    }

    static PrintStream over(PrintWriter out) {
        return new PrintStream(new LineStream(out), true, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void write(int b) {
        line.write(b);
        if (b == '\n') flush();
    }

    @Override
    public synchronized void flush() {
        if (line.size() == 0) return;
        out.print(line.toString(StandardCharsets.UTF_8));
        out.flush();
        line.reset();
    }
}
