package dev.gpt4j.sql;

import dev.gpt4j.inference.Generator;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generation;
import dev.gpt4j.inference.TokenConstraint;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.LoraAdapter;
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
 * default; {@link Options#constrained()} turns on schema-constrained decoding ({@link SqlConstraint}), and
 * {@link Options#withBeam} beam search. {@link #ask(Schema, String, java.util.function.Predicate)} keeps the first
 * answer if it passes a check (e.g. it runs on the database and returns a value), else takes the first of the beam's
 * ranked {@link #candidates} that does (execution-guided decoding). The
 * generated SQL is untrusted: {@link SqlAnswer#check()} says whether it is one read-only query.
 * Not thread-safe.
 */
public final class TextToSql implements AutoCloseable {

    /**
     * Decoding settings, whether to constrain to the schema, whether string values must be copied from the
     * question (a further constraint, on top of {@code constrained}), whether tables the question names are
     * preferred after FROM ({@link #withLinkTables}), whether a WHERE may test each column once
     * ({@link #withOneConditionPerColumn}), how many questions run as one batch, and the beam width.
     */
    public record Options(GenerationOptions decoding, boolean constrained, boolean valuesFromQuestion, boolean linkTables,
                          boolean oneConditionPerColumn, int batchSize, int beamWidth, int fallbackBeam) {
        public Options {
            if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, not " + batchSize);
            if (beamWidth <= 0) throw new IllegalArgumentException("beam width must be positive, not " + beamWidth);
            if (fallbackBeam < 0) throw new IllegalArgumentException("fallback beam width must be 0 (none) or more, not " + fallbackBeam);
        }

        /** Greedy, up to 128 SQL tokens, unconstrained, batches of 8, no beam, no fallback beam. */
        public static Options defaults() {
            return new Options(GenerationOptions.greedy(128), false, false, false, false, 8, 1, 0);
        }

        /**
         * With a width of 2 or more (and {@code constrained}), a question whose answer never became a complete
         * query (the constraint allowed no token, or the tokens ran out, before any prefix could end) is decoded
         * again by a beam search of that width, and answered with its best complete candidate if it has one.
         * Answers that were complete are left as they are; 0 or 1 turns it off.
         */
        public Options withFallbackBeam(int width) {
            return new Options(decoding, constrained, valuesFromQuestion, linkTables, oneConditionPerColumn, batchSize, beamWidth, width);
        }

        /**
         * With a width above 1, each question is answered by beam search ({@link Generator#beamSearch}) of that
         * width, one question at a time, instead of by {@code decoding} (only its token limit is used);
         * {@link #candidates} then gives that many ranked answers.
         */
        public Options withBeam(int width) {
            return new Options(decoding, constrained, valuesFromQuestion, linkTables, oneConditionPerColumn, batchSize, width, fallbackBeam);
        }

        public Options withConstrained(boolean c) {
            return new Options(decoding, c, valuesFromQuestion, linkTables, oneConditionPerColumn, batchSize, beamWidth, fallbackBeam);
        }

        /**
         * With {@code true} (and {@code constrained}), every string literal must occur in the question (ignoring
         * case; LIKE's % aside), as WikiSQL's values always do. Wrong for values the question only implies.
         */
        public Options withValuesFromQuestion(boolean v) {
            return new Options(decoding, constrained, v, linkTables, oneConditionPerColumn, batchSize, beamWidth, fallbackBeam);
        }

        /**
         * With {@code true} (and {@code constrained}), a table the question names (by its name, words split at
         * underscores, singular or plural) gets {@link SqlConstraint#TABLE_BONUS} added to the logits of the
         * tokens that start it, where the first table after FROM comes next and the SELECT list announces no join.
         * A preference: any table the constraint allows may still be chosen.
         */
        public Options withLinkTables(boolean l) {
            return new Options(decoding, constrained, valuesFromQuestion, l, oneConditionPerColumn, batchSize, beamWidth, fallbackBeam);
        }

        /**
         * With {@code true} (and {@code constrained}), a column may occur only once in a WHERE clause (per SELECT),
         * as in WikiSQL's grammar, whose conditions never test a column twice. Wrong for ranges and lists
         * ({@code year > 2000 AND year < 2010}, {@code x = 'a' OR x = 'b'}).
         */
        public Options withOneConditionPerColumn(boolean o) {
            return new Options(decoding, constrained, valuesFromQuestion, linkTables, o, batchSize, beamWidth, fallbackBeam);
        }

        public Options withDecoding(GenerationOptions d) {
            return new Options(d, constrained, valuesFromQuestion, linkTables, oneConditionPerColumn, batchSize, beamWidth, fallbackBeam);
        }

        public Options withBatchSize(int b) {
            return new Options(decoding, constrained, valuesFromQuestion, linkTables, oneConditionPerColumn, b, beamWidth, fallbackBeam);
        }
    }

    private final GptModel model;
    private final BpeTokenizer tokenizer;
    private final PromptFormat format;
    private final Generator generator;
    private Options options = Options.defaults();
    /** The name under which {@link #useAdapter} loads its adapter into the model. */
    private static final String ADAPTER = "text-to-sql";
    private Path adapterDir;

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

    /**
     * Loads a model directory and a LoRA adapter for it (a PEFT folder, e.g. one {@code gpt4j finetune --lora} or
     * {@code gpt4j adapt} wrote), active on top of the model's weights.
     *
     * @throws IllegalArgumentException naming the folder or file at fault (an adapter for another model shape included)
     */
    public static TextToSql load(Path dir, Path adapter) {
        TextToSql t = load(dir);
        if (adapter == null) return t;
        try {
            return t.useAdapter(adapter);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /**
     * Answers with the LoRA adapter in {@code dir} from now on (a PEFT folder, e.g. one {@code gpt4j adapt} wrote for a
     * database), replacing the one a previous call set; null: the model alone again. The model's own weights are never
     * changed, so questions about other databases answer as before.
     *
     * @throws IllegalArgumentException naming the folder or file at fault (an adapter for another model shape included)
     */
    public TextToSql useAdapter(Path dir) {
        if (dir != null && dir.equals(adapterDir)) return this;
        LoraAdapter a = null;
        if (dir != null) {
            try {
                a = LoraAdapter.load(dir, model.config());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        if (adapterDir != null) model.removeAdapter(ADAPTER);
        adapterDir = null;
        if (a != null) {
            model.addAdapter(ADAPTER, a);
            model.setActiveAdapter(ADAPTER);
            adapterDir = dir;
        }
        return this;
    }

    /** The folder of the adapter set by {@link #useAdapter}, or null. */
    public Path adapter() {
        return adapterDir;
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

    /**
     * Answers several questions (question i about schema i), {@link Options#batchSize()} at a time; with a beam
     * ({@link Options#withBeam}), one at a time, each the best of its {@link #candidates}.
     */
    public List<SqlAnswer> askAll(List<Schema> schemas, List<String> questions) {
        if (options.beamWidth() == 1) return decodeAll(schemas, questions);
        List<int[]> prompts = prompts(schemas, questions); // checks them all before the first search
        List<SqlAnswer> out = new ArrayList<>(questions.size());
        for (int i = 0; i < questions.size(); i++) out.add(search(prompts.get(i), schemas.get(i), questions.get(i), options.beamWidth()).get(0));
        return out;
    }

    /** The answers of {@link Options#decoding()} (greedy by default), batched, whatever the beam width. */
    List<SqlAnswer> decodeAll(List<Schema> schemas, List<String> questions) {
        List<int[]> prompts = prompts(schemas, questions);
        TokenConstraint constraint = constraint(schemas, questions);
        long t0 = System.nanoTime();
        List<Generation> gens = generator.generate(prompts, options.decoding(), constraint, options.batchSize(), format.endId());
        long each = (System.nanoTime() - t0) / Math.max(1, prompts.size());
        List<SqlAnswer> out = new ArrayList<>(gens.size());
        for (int i = 0; i < gens.size(); i++) {
            Generation g = gens.get(i);
            SqlAnswer a = answer(constraint, i, g, prompts.size() == 1 ? g.prefillNanos() + g.generateNanos() : each);
            if (constraint != null && options.fallbackBeam() > 1 && !a.complete()) a = fallback(a, prompts.get(i), schemas.get(i), questions.get(i));
            out.add(a);
        }
        return out;
    }

    /** The best complete candidate of a {@link Options#fallbackBeam()} search, timed with the first answer; else {@code first}. */
    private SqlAnswer fallback(SqlAnswer first, int[] prompt, Schema schema, String question) {
        for (SqlAnswer a : search(prompt, schema, question, options.fallbackBeam())) {
            if (a.complete()) {
                return new SqlAnswer(a.sql(), a.parses(), a.check(), a.promptTokens(), a.sqlTokens(), first.nanos() + a.nanos(), a.stopReason(), a.cut());
            }
        }
        return first;
    }

    /**
     * The ranked answers of a beam search of {@link Options#beamWidth()} (the one answer of {@link Options#decoding()}
     * with a width of 1): the queries that ended, best first by the model's log-probability of the whole query,
     * then, if fewer ended, those cut at the token limit. Each SQL text occurs once, so there may be fewer than the
     * width. Each is timed with the whole search.
     */
    public List<SqlAnswer> candidates(Schema schema, String question) {
        List<Schema> schemas = List.of(schema);
        List<String> questions = List.of(question);
        if (options.beamWidth() == 1) return decodeAll(schemas, questions);
        return search(prompts(schemas, questions).get(0), schema, question, options.beamWidth());
    }

    /** The beam search of {@code width} behind {@link #candidates}, on an encoded prompt. */
    private List<SqlAnswer> search(int[] prompt, Schema schema, String question, int width) {
        TokenConstraint constraint = constraint(List.of(schema), List.of(question));
        long t0 = System.nanoTime();
        List<Generator.Scored> beam = generator.beamSearch(prompt, width, options.decoding().maxNewTokens(), constraint, 0,
                format.endId());
        long nanos = System.nanoTime() - t0;
        List<SqlAnswer> out = new ArrayList<>(beam.size());
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Generator.Scored s : beam) {
            SqlAnswer a = answer(constraint, 0, s.generation(), nanos);
            // distinct token sequences can give the same SQL (cut back to one complete prefix, or a trailing space)
            if (seen.add(a.sql())) out.add(a);
        }
        return out;
    }

    /**
     * An answer that must pass a check, e.g. run on the database and return a value (execution-guided decoding):
     * the answer of {@link Options#decoding()} (greedy by default) if {@code accept} takes it, else the first of the
     * beam's {@link #candidates} that it takes, else the first answer. The beam is searched only when needed.
     */
    public SqlAnswer ask(Schema schema, String question, java.util.function.Predicate<SqlAnswer> accept) {
        return orElseCandidate(schema, question, decodeAll(List.of(schema), List.of(question)).get(0), accept);
    }

    /** {@code first} if {@code accept} takes it, else the first other candidate it takes, else {@code first}. */
    SqlAnswer orElseCandidate(Schema schema, String question, SqlAnswer first, java.util.function.Predicate<SqlAnswer> accept) {
        if (accept.test(first) || options.beamWidth() == 1) return first;
        for (SqlAnswer a : candidates(schema, question)) {
            if (!a.sql().equals(first.sql()) && accept.test(a)) return a;
        }
        return first;
    }

    private List<int[]> prompts(List<Schema> schemas, List<String> questions) {
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
        return prompts;
    }

    private TokenConstraint constraint(List<Schema> schemas, List<String> questions) {
        return !options.constrained() ? null
                : new SqlConstraint(tokenizer, schemas, questions, options.valuesFromQuestion(), options.linkTables(),
                        options.oneConditionPerColumn());
    }

    private SqlAnswer answer(TokenConstraint constraint, int i, Generation g, long nanos) {
        int[] toks = g.tokens();
        int used = completePrefix(constraint, i, toks, g.stopReason(), format.endId());
        boolean cut = used < toks.length;
        String sql = (cut ? tokenizer.decode(Arrays.copyOf(toks, used)) : g.text()).strip();
        return new SqlAnswer(sql, SqlGuard.parses(sql), SqlGuard.check(sql), g.promptTokens(), used, nanos, g.stopReason(), cut);
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
