package dev.gpt4j.cli;

import dev.gpt4j.server.QueryLog;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "log", mixinStandardHelpOptions = true, description = "Reads the query log of gpt4j serve.",
        subcommands = {LogCommand.Export.class, CommandLine.HelpCommand.class})
final class LogCommand {

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Writes the question/SQL pairs users corrected on the page (or with POST /api/feedback), one "
                    + "'question<TAB>sql' line each, oldest first: what gpt4j adapt --feedback reads.",
                    "Example: gpt4j log export --log gpt4j-queries.db --corrections corrections.tsv"})
    static final class Export implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--log", required = true, paramLabel = "FILE.db", description = "The query log gpt4j serve wrote.")
        Path log;

        @Option(names = "--corrections", required = true, paramLabel = "OUT.tsv", description = "Where to write the pairs (replaced atomically).")
        Path out;

        @Option(names = "--database", paramLabel = "NAME", description = "Only the questions about this database.")
        String database;

        @Option(names = "--include-confirmed", description = "Also the generated SQL users marked correct.")
        boolean includeConfirmed;

        @Override
        public Integer call() {
            if (!Files.isRegularFile(log)) throw new CliException("no query log at " + log);
            List<QueryLog.Pair> pairs;
            try (QueryLog q = QueryLog.open(log)) {
                pairs = q.corrections(database, includeConfirmed);
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new CliException(e.getMessage(), e);
            }
            StringBuilder sb = new StringBuilder();
            for (QueryLog.Pair p : pairs) sb.append(field(p.question())).append('\t').append(field(p.sql())).append('\n');
            try {
                Path abs = out.toAbsolutePath();
                if (abs.getParent() != null) Files.createDirectories(abs.getParent());
                Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
                Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new CliException("cannot write " + out + ": " + e.getMessage(), e);
            }
            long corrected = pairs.stream().filter(QueryLog.Pair::corrected).count();
            spec.commandLine().getOut().println("wrote " + pairs.size() + " pairs to " + out + " (" + corrected + " corrected"
                    + (includeConfirmed ? ", " + (pairs.size() - corrected) + " confirmed" : "") + ")");
            return 0;
        }

        /** One TSV field: a tab or line break inside would split the line, so whitespace runs become one space. */
        static String field(String s) {
            return s.replaceAll("[\\t\\r\\n]+", " ").strip();
        }
    }
}
