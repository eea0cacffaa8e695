package dev.gpt4j.inference;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqlGuard;
import dev.gpt4j.tokenizer.BpeTokenizer;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The text-to-SQL assistant: a schema and a question in, one SQL query out.
 *
 * <pre>{@code
 * try (TextToSql t2s = TextToSql.load(Path.of("models/gpt4j-sql"))) {
 *     SqlAnswer a = t2s.ask("CREATE TABLE singer (singer_id INT PRIMARY KEY, name TEXT, age INT);",
 *                           "How many singers are there?");
 *     System.out.println(a.sql());          // SELECT count(*) FROM singer
 * }
 * }</pre>
 *
 * The prompt is {@link PromptFormat}'s ({@code <|schema|>} compact schema {@code <|question|>} question
 * {@code <|sql|>}); the schema is cut by whole tables if it does not fit the context. Decoding is greedy by
 * default; {@link Options#constrained()} turns on schema-constrained decoding ({@link SqlConstraint}). The
 * generated SQL is untrusted: {@link SqlAnswer#check()} says whether it is one read-only query.
 * Not thread-safe.
 */
public final class TextToSql implements AutoCloseable {

    /**
     * Decoding settings, whether to constrain to the schema, whether string values must be copied from the
     * question (a further constraint, on top of {@code constrained}), whether tables the question names are
     * preferred after FROM and JOIN ({@link #withLinkTables}), and how many questions run as one batch.
     */
    public record Options(GenerationOptions decoding, boolean constrained, boolean valuesFromQuestion, boolean linkTables,
                          int batchSize) {
        public Options {
            if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, not " + batchSize);
        }

        /** Greedy, up to 128 SQL tokens, unconstrained, batches of 8. */
        public static Options defaults() {
            return new Options(GenerationOptions.greedy(128), false, false, false, 8);
        }

        public Options withConstrained(boolean c) {
            return new Options(decoding, c, valuesFromQuestion, linkTables, batchSize);
        }

        /**
         * With {@code true} (and {@code constrained}), every string literal must occur in the question (ignoring
         * case; LIKE's % aside), as WikiSQL's values always do. Wrong for values the question only implies.
         */
        public Options withValuesFromQuestion(boolean v) {
            return new Options(decoding, constrained, v, linkTables, batchSize);
        }

        /**
         * With {@code true} (and {@code constrained}), a table the question names (by its name, words split at
         * underscores, singular or plural) gets {@link SqlConstraint#TABLE_BONUS} added to the logits of the
         * tokens that start it, where a table name comes next. A preference: any table the constraint allows
         * may still be chosen.
         */
        public Options withLinkTables(boolean l) {
            return new Options(decoding, constrained, valuesFromQuestion, l, batchSize);
        }

        public Options withDecoding(GenerationOptions d) {
            return new Options(d, constrained, valuesFromQuestion, linkTables, batchSize);
        }

        public Options withBatchSize(int b) {
            return new Options(decoding, constrained, valuesFromQuestion, linkTables, b);
        }
    }

    private final GptModel model;
    private final BpeTokenizer tokenizer;
    private final PromptFormat format;
    private final Generator generator;
    private Options options = Options.defaults();

    public TextToSql(GptModel model, BpeTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.format = new PromptFormat(tokenizer);
        this.generator = new Generator(model, tokenizer);
    }

    /**
     * Loads a model directory: {@code config.json}, {@code model.safetensors}, {@code vocab.json},
     * {@code merges.txt} (with the prompt's special tokens).
     *
     * @throws IllegalArgumentException naming the directory or file that is missing or wrong
     */
    public static TextToSql load(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("model directory " + dir + " does not exist");
        for (String f : List.of("config.json", "model.safetensors", "vocab.json", "merges.txt")) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IllegalArgumentException("model directory " + dir + " has no " + f);
            }
        }
        BpeTokenizer tok = BpeTokenizer.load(dir);
        GptModel model = GptModel.load(dir);
        try {
            return new TextToSql(model.eval(), tok);
        } catch (RuntimeException e) {
            model.close();
            throw new IllegalArgumentException(dir + ": " + e.getMessage(), e);
        }
    }

    public GptModel model() {
        return model;
    }

    public BpeTokenizer tokenizer() {
        return tokenizer;
    }

    public Options options() {
        return options;
    }

    /** Sets the options for later questions; returns this. */
    public TextToSql options(Options o) {
        this.options = o;
        return this;
    }

    /** Answers a question about a schema given as {@code CREATE TABLE} statements. */
    public SqlAnswer ask(String ddl, String question) {
        return ask(DdlSchemas.parse(ddl, "schema", "schema"), question);
    }

    /** Answers a question about a schema. */
    public SqlAnswer ask(Schema schema, String question) {
        return askAll(List.of(schema), List.of(question)).get(0);
    }

    /** Answers several questions (question i about schema i), {@link Options#batchSize()} at a time. */
    public List<SqlAnswer> askAll(List<Schema> schemas, List<String> questions) {
        if (schemas.size() != questions.size()) {
            throw new IllegalArgumentException(schemas.size() + " schemas but " + questions.size() + " questions");
        }
        int ctx = model.config().contextLength();
        int reserve = Math.min(options.decoding().maxNewTokens(), ctx / 3);
        List<int[]> prompts = new ArrayList<>(questions.size());
        for (int i = 0; i < questions.size(); i++) {
            String q = questions.get(i);
            if (q == null || q.isBlank()) throw new IllegalArgumentException("question " + i + " is empty");
            prompts.add(format.prompt(schemas.get(i), q, ctx, reserve));
        }
        TokenConstraint constraint = !options.constrained() ? null
                : new SqlConstraint(tokenizer, schemas, questions, options.valuesFromQuestion(), options.linkTables());
        long t0 = System.nanoTime();
        List<Generation> gens = generator.generate(prompts, options.decoding(), constraint, options.batchSize(), format.endId());
        long each = (System.nanoTime() - t0) / Math.max(1, prompts.size());
        List<SqlAnswer> out = new ArrayList<>(gens.size());
        for (int i = 0; i < gens.size(); i++) {
            Generation g = gens.get(i);
            int[] toks = g.tokens();
            int used = completePrefix(constraint, i, toks, g.stopReason(), format.endId());
            boolean cut = used < toks.length;
            String sql = (cut ? tokenizer.decode(Arrays.copyOf(toks, used)) : g.text()).strip();
            out.add(new SqlAnswer(sql, SqlGuard.parses(sql), SqlGuard.check(sql), g.promptTokens(), used,
                    prompts.size() == 1 ? g.prefillNanos() + g.generateNanos() : each, g.stopReason(), cut));
        }
        return out;
    }

    /**
     * How many of sequence i's tokens to keep: all of them, unless a constrained generation stopped without its
     * end token (out of tokens, or of context); then the longest prefix after which the constraint would have
     * allowed the end, i.e. the last point where the text was a complete query (all tokens if there is none).
     */
    static int completePrefix(TokenConstraint constraint, int i, int[] toks, Generation.StopReason why, int endId) {
        if (constraint == null || why == Generation.StopReason.STOP_TOKEN) return toks.length;
        for (int n = toks.length - 1; n > 0; n--) {
            if (constraint.allows(i, toks, n, endId)) return n;
        }
        return toks.length;
    }

    @Override
    public void close() {
        model.close();
    }

    @Override
    public String toString() {
        return "TextToSql[" + model + ", " + tokenizer.vocabSize() + " tokens, " + options + "]";
    }
}
