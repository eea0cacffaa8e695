package dev.gpt4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * The {@code gpt4j} command line. Run it through the {@code ./gpt4j} launcher at the project root.
 * Errors are one line on standard error and a non-zero exit code; {@code --verbose} adds the stack trace.
 */
@Command(name = "gpt4j", mixinStandardHelpOptions = true, versionProvider = Gpt4jCommand.Version.class,
        description = "A GPT in pure Java on ND4J, and a text-to-SQL assistant built on it.",
        subcommands = {TokenizeCommand.class, DetokenizeCommand.class, TrainTokenizerCommand.class,
                ScoreCommand.class, GoldCommand.class, TrainCommands.Pretrain.class, TrainCommands.Finetune.class,
                GenerateCommand.class, AskCommand.class, AdaptCommand.class, EvalCommand.class, ConvertCommand.class, MergeCommand.class,
                DataCommand.class, ServeCommand.class, LogCommand.class, BenchServeCommand.class,
                CommandLine.HelpCommand.class})
public final class Gpt4jCommand {

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces of errors.")
    boolean verbose;

    public static void main(String[] args) {
        // UTF-8 whatever the locale: JDK 17 would otherwise write '?' for non-ASCII text under LANG=C.
        PrintWriter out = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8));
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8), true);
        int rc = run(args, out, err);
        out.flush();
        System.exit(rc);
    }

    /** Runs the command line with the given output streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Gpt4jCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Throwable shown = e instanceof CliException && e.getCause() != null ? e.getCause() : e;
            err.println("gpt4j " + commandLine.getCommandName() + ": " + message(e));
            if (java.util.Arrays.asList(args).contains("--verbose")) shown.printStackTrace(err);
            err.flush();
            return e instanceof CliException ce ? ce.exitCode() : 1;
        });
        return cl.execute(args);
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Gpt4jCommand.class.getPackage().getImplementationVersion();
            return new String[] {"gpt4j " + (v == null ? "(development build)" : v)};
        }
    }
}
