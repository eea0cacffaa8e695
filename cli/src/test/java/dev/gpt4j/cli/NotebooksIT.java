package dev.gpt4j.cli;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs every notebook in {@code notebooks/} through {@code notebooks/jshell.sh}, as a reader would. JShell keeps
 * going after an error, so the output is read: any exception, compile error or failed check fails the test,
 * and so does a notebook that does not reach its last line ({@code NOTEBOOK OK}) within the time limit.
 */
class NotebooksIT {
    static final Path ROOT = Path.of(System.getProperty("gpt4j.root", "..")).toAbsolutePath().normalize();
    static final Pattern FAILURE = Pattern.compile("(?m)^(\\|\\s+)?(Exception |Error:|.*CHECK FAILED)");

    @TestFactory
    Stream<DynamicTest> everyNotebookRunsCleanly() throws IOException {
        List<Path> books;
        try (Stream<Path> s = Files.list(ROOT.resolve("notebooks"))) {
            books = s.filter(p -> p.getFileName().toString().matches("(ch\\d|appendix-).*\\.jsh")).sorted().toList();
        }
        assertTrue(books.size() >= 5, "the notebooks of chapters 2-7: " + books);
        return books.stream().map(nb -> DynamicTest.dynamicTest(nb.getFileName().toString(), () -> run(nb)));
    }

    /** A notebook that reads the data sets (it names startup.jsh's DATA) skips without them, as the unit tests do. */
    static void run(Path notebook) throws Exception {
        Path data = Files.readString(notebook).contains("DATA") ? TestData.dir() : null;
        Path log = Files.createTempFile("notebook", ".log");
        ProcessBuilder pb = new ProcessBuilder("bash", ROOT.resolve("notebooks/jshell.sh").toString(), notebook.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        if (data != null) pb.environment().put("GPT4J_DATA", data.toString()); // the folder checked here is the one it reads
        long t0 = System.nanoTime();
        Process p = pb.start();
        boolean done = p.waitFor(150, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%s: %.0f s%n", notebook.getFileName(), secs);
        assertTrue(done, notebook + " did not finish in 150 s:\n" + out);
        var m = FAILURE.matcher(out);
        assertFalse(m.find(), notebook + " failed at '" + (m.find(0) ? out.substring(m.start(), Math.min(out.length(), m.start() + 300)) : "") + "':\n" + out);
        assertTrue(out.contains("NOTEBOOK OK"), notebook + " did not reach its end:\n" + out);
        assertEquals(0, p.exitValue(), notebook + " exit code:\n" + out);
    }
}
