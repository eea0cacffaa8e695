package dev.gpt4j.cli;

import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.QueryResult;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqlExecutionException;
import dev.gpt4j.data.SqliteDatabase;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.sql.AdapterRecord;
import dev.gpt4j.sql.Evaluator;
import dev.gpt4j.sql.SqlAnswer;
import dev.gpt4j.sql.TextToSql;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "ask", mixinStandardHelpOptions = true,
        description = {"Writes the SQL for a question about a schema; with --execute, runs it read-only and prints the rows.",
                "Example: gpt4j ask --schema examples/employees.sql \"Show me the average salary by department\""})
final class AskCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--schema", paramLabel = "FILE", description = "CREATE TABLE statements (SQL). Without it, the schema of --execute's database is used.")
    Path schema;

    @Option(names = "--execute", paramLabel = "DB", description = "A SQLite database to run the SQL on (opened read-only, with a time-out).")
    Path execute;

    @Mixin
    SqlDecodingOptions decoding;

    @Option(names = "--max-rows", defaultValue = "20", paramLabel = "N", description = "Rows to print with --execute. Default: ${DEFAULT-VALUE}.")
    int maxRows;

    @Option(names = "--no-adapter", description = "Answer with the model alone, even if an adapter learned for this schema lies beside it "
            + "(NAME.adapter next to NAME.sql or NAME.db, as gpt4j adapt --out NAME.adapter makes it).")
    boolean noAdapter;

    @Parameters(index = "0", paramLabel = "QUESTION", description = "The question, in English.")
    String question;

    @Override
    public Integer call() {
        if (question == null || question.isBlank()) throw new CliException("the question is empty");
        if (schema == null && execute == null) throw new CliException("give the schema with --schema FILE (or a database with --execute DB)");
        if (execute != null && !Files.isRegularFile(execute)) throw new CliException("no database file " + execute);
        TextToSql.Options options = decoding.options(TextToSql.Options.defaults().decoding().batchSize());
        Schema s;
        if (schema != null) {
            if (!Files.isRegularFile(schema)) throw new CliException("no schema file " + schema);
            try {
                s = DdlSchemas.read(schema);
            } catch (RuntimeException e) {
                throw new CliException(e.getMessage(), e);
            }
            if (s.tables().isEmpty()) throw new CliException(schema + ": no CREATE TABLE statement");
        } else {
            try (SqliteDatabase db = SqliteDatabase.open(execute)) {
                s = db.schema();
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        chooseAdapter(s);
        try (TextToSql t = model.load()) {
            t.options(options);
            SqlAnswer a;
            if (execute != null && options.decoding().beamWidth() > 1) {
                try (SqliteDatabase db = SqliteDatabase.open(execute, Duration.ofSeconds(2), 1)) {
                    a = t.ask(s, question, c -> Evaluator.findsValue(c, db));
                }
            } else {
                a = t.ask(s, question);
            }
            out.println(a.sql());
            out.flush();
            if (a.cut()) {
                spec.commandLine().getErr().println("note: the model did not end its query; this is its last complete prefix");
            }
            if (!a.safe()) {
                spec.commandLine().getErr().println("note: this SQL would not be run: " + a.check().reason());
            }
            if (execute != null) {
                if (!a.safe()) throw new CliException("refused to run the SQL: " + a.check().reason());
                try (SqliteDatabase db = SqliteDatabase.open(execute, Duration.ofSeconds(10), 100_000)) {
                    QueryResult r = db.queryUntrusted(a.sql());
                    out.println(r.format(maxRows));
                } catch (SqlExecutionException e) {
                    throw new CliException("the SQL failed on " + execute + ": " + e.getMessage(), e);
                }
            }
        }
        out.flush();
        return 0;
    }

    /**
     * The adapter to answer with: --adapter's (with a one-line warning if its record says it was learned for another
     * schema), else the one named like the schema or database file beside it, if it was learned for this schema.
     */
    private void chooseAdapter(Schema s) {
        PrintWriter err = spec.commandLine().getErr();
        if (noAdapter) {
            if (model.adapter != null) throw new CliException("--no-adapter and --adapter contradict each other");
            return;
        }
        if (model.adapter != null) {
            if (!Files.isDirectory(model.adapter)) throw new CliException("no adapter folder at " + model.adapter);
            AdapterRecord r = record(model.adapter);
            if (r != null && !r.fits(s)) {
                err.println("warning: the adapter " + model.adapter + " was learned for the schema " + r.describe() + ", not this one ("
                        + PromptFormat.schemaHash(s).substring(0, 19) + "…); its answers may be worse than the model's alone");
            }
            return;
        }
        try {
            model.adapter = AdapterRecord.fittingBeside(s, line -> err.println("note: " + line), schema, execute).orElse(null);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    private static AdapterRecord record(Path dir) {
        try {
            return AdapterRecord.read(dir).orElse(null);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }
}
