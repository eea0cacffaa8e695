package dev.gpt4j.cli;

import dev.gpt4j.data.DataFileException;
import dev.gpt4j.data.DatabaseDrills;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqliteDatabase;
import dev.gpt4j.training.Adaptation;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code gpt4j adapt}: a LoRA adapter for one database, learned from its schema and rows (and corrected pairs). */
@Command(name = "adapt", mixinStandardHelpOptions = true,
        description = {"Learns a LoRA adapter for one database from its own schema and rows: drills written from templates over its tables,",
                "columns, keys and sampled values (each checked on the database), corrected pairs from --feedback, and a replay sample of",
                "the original fine-tuning data. Writes a PEFT adapter folder and gpt4j-adapt.json (what it learned from). Then:",
                "  gpt4j ask --execute DB \"QUESTION\"        picks up DB's adapter when it is named like the database (x.db -> x.adapter)",
                "  gpt4j ask --schema FILE --adapter DIR \"QUESTION\"",
                "Example: gpt4j adapt --db examples/employees.db --out examples/employees.adapter"})
final class AdaptCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--db", paramLabel = "FILE", description = "The SQLite database (read-only): its schema, unless --schema is given, and values "
            + "sampled from its rows (at most --rows-per-table per table); every drill is run on it and kept only if it works.")
    Path db;

    @Option(names = "--schema", paramLabel = "FILE", description = "CREATE TABLE statements. Without --db, drills use made-up values for conditions.")
    Path schema;

    @Option(names = "--feedback", paramLabel = "FILE", description = "Corrected pairs, one 'question<TAB>sql' per line (gpt4j log export "
            + "--corrections writes this). Each SQL is checked (one read-only query; runs on --db); bad lines are named, skipped and counted.")
    Path feedback;

    @Option(names = "--feedback-weight", paramLabel = "K", description = "How many times each corrected pair occurs per epoch. Default: 8.")
    Integer feedbackWeight;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The adapter folder to write (refused if it exists, unless --force).")
    Path out;

    @Option(names = "--force", description = "Replace --out if it exists (the new folder is written aside and renamed into place).")
    boolean force;

    static final class Length {
        @Option(names = "--steps", paramLabel = "N", description = "Training steps (default " + 400 + ").")
        Integer steps;

        @Option(names = "--minutes", paramLabel = "M", description = "A time budget instead of --steps: the steps are chosen from a short timing.")
        Double minutes;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Length length;

    @Option(names = "--model", paramLabel = "DIR", description = "The model to adapt. Default: " + ModelOptions.SHIPPED + " in the project.")
    Path model;

    @Option(names = "--hold-out", paramLabel = "QUESTION", description = "A question no drill may ask (ignoring case, punctuation and the words "
            + "me/the/a/an/please), e.g. one you will test the adapter with. Repeatable.")
    List<String> holdOut = new ArrayList<>();

    @Option(names = "--lr", paramLabel = "LR", description = "Peak learning rate (cosine to a tenth). Default: 1e-3.")
    Double lr;

    @Option(names = "--lora", paramLabel = "SETTINGS", description = "The adapter's shape. Default: r=16,alpha=32,dropout=0.05,targets=c_attn,c_proj,c_fc.")
    String lora;

    @Option(names = "--replay", paramLabel = "F", description = "Fraction of the training examples replayed from WikiSQL and Spider train (0 to 0.9). Default: 0.3.")
    Double replay;

    @Option(names = "--phrasings", paramLabel = "N", description = "Phrasings written per drill intent. Default: 2.")
    Integer phrasings;

    @Option(names = "--rows-per-table", paramLabel = "N", description = "The most rows read from any table for values. Default: 200.")
    Integer rowsPerTable;

    @Option(names = "--seed", paramLabel = "N", description = "Seeds the drills' choices, the replay sample and the training. Default: 1.")
    Long seed;

    @Option(names = "--data", paramLabel = "DIR", description = "The data folder with WikiSQL and Spider train for the replay. Default: ../shared/data.")
    Path data;

    @Override
    public Integer call() {
        if (db == null && schema == null) throw new CliException("give the database with --db FILE.sqlite, or its schema with --schema FILE.sql");
        try {
            Adaptation.checkOut(out, force);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        Adaptation.Settings s = Adaptation.Settings.defaults();
        if (length != null && length.steps != null) {
            if (length.steps < 1) throw new CliException("--steps must be at least 1, got " + length.steps);
            s = s.withSteps(length.steps);
        }
        if (length != null && length.minutes != null) {
            if (!(length.minutes > 0)) throw new CliException("--minutes must be above 0, got " + length.minutes);
            s = s.withMinutes(length.minutes);
        }
        try {
            if (seed != null) s = s.withSeed(seed);
            if (lr != null) s = s.withLr(lr, lr / 10);
            if (lora != null) s = s.withLora(lora);
            if (replay != null) s = s.withReplay(replay, s.replaySpider());
            if (data != null) s = s.withDataDir(data.toString());
            if (feedbackWeight != null) s = s.withFeedbackRepeats(feedbackWeight);
            DatabaseDrills.Options d = s.drills().withHeldOut(Set.copyOf(holdOut));
            if (phrasings != null) d = d.withPhrasings(phrasings);
            if (rowsPerTable != null) d = d.withRowsPerTable(rowsPerTable);
            s = s.withDrills(d);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }

        Schema sch;
        String from;
        try {
            if (schema != null) {
                if (!Files.isRegularFile(schema)) throw new CliException("no schema file " + schema);
                sch = DdlSchemas.read(schema);
                from = "DDL " + schema;
                if (sch.tables().isEmpty()) throw new CliException(schema + ": no CREATE TABLE statement (a schema with no tables)");
            } else {
                if (!Files.isRegularFile(db)) throw new CliException("no database file " + db);
                try (SqliteDatabase d = SqliteDatabase.open(db)) {
                    sch = d.schema();
                }
                from = "database " + db;
                if (sch.tables().isEmpty()) throw new CliException(db + ": the database has no tables");
            }
            if (db != null && schema != null) {
                if (!Files.isRegularFile(db)) throw new CliException("no database file " + db);
                try (SqliteDatabase d = SqliteDatabase.open(db)) {
                    d.schema(); // an unreadable file fails here, before any work
                }
            }
        } catch (DataFileException e) {
            throw new CliException(e.getMessage(), e);
        }
        if (feedback != null && !Files.isRegularFile(feedback)) throw new CliException("no feedback file " + feedback);

        Path modelDir = model != null ? model : new ModelOptions().dir();
        if (!Files.isDirectory(modelDir)) throw new CliException("no model folder at " + modelDir + " (give one with --model DIR)");
        PrintStream log = LineStream.over(spec.commandLine().getOut());
        try {
            new Adaptation(shown(modelDir), s, log).adapt(new Adaptation.Request(sch.name(), sch, from, db, feedback, out, force));
        } catch (IllegalArgumentException | DataFileException | java.io.UncheckedIOException e) {
            throw new CliException(e.getMessage(), e);
        }
        return 0;
    }

    /** The model folder as the record shows it: relative to the project when inside it (the shipped model: models/gpt4j-sql). */
    private static Path shown(Path modelDir) {
        String home = System.getProperty("gpt4j.home");
        if (home == null) return modelDir;
        Path h = Path.of(home).toAbsolutePath().normalize(), m = modelDir.toAbsolutePath().normalize();
        Path cwd = Path.of("").toAbsolutePath();
        return m.startsWith(h) && cwd.equals(h) ? h.relativize(m) : m;
    }
}
