package dev.gpt4j.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs a gpt4j command in this JVM, as the launcher would, and keeps what it printed. */
abstract class CommandRun {
    String out, err;

    int run(String... args) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int rc = Gpt4jCommand.run(args, new PrintWriter(o), new PrintWriter(e));
        out = o.toString();
        err = e.toString();
        return rc;
    }
}
