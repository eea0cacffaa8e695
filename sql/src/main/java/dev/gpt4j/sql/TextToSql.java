package dev.gpt4j.sql;

import dev.gpt4j.inference.Generator;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generation;
import dev.gpt4j.inference.TokenConstraint;
import dev.gpt4j.inference.TokenListener;
import dev.gpt4j.core.GgufModelFiles;
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
 * {@code <|sql|>}); the schema is cut by whole tables if it does not fit the context. Decoding is greedy and
 * schema-constrained ({@link SqlConstraint}) by default; {@link Options} set other {@link Decoding} (beam search, a
 * fallback beam) and {@link SqlRules} (free decoding, values from the question, ...). {@link #ask(Schema, String, java.util.function.Predicate)} keeps the first
 * answer if it passes a check (e.g. it runs on the database and returns a value), else takes the first of the beam's
 * ranked {@link #candidates} that does (execution-guided decoding). The
 * generated SQL is untrusted: {@link SqlAnswer#check()} says whether it is one read-only query.
 * Not thread-safe.
 */
public final class TextToSql implements AutoCloseable {

    /**
     * How to decode ({@link Decoding}) and what the SQL must obey ({@link SqlRules}), each checked where it is made.
     * {@link #defaults()} are {@code gpt4j ask}'s and {@code gpt4j eval}'s: greedy, schema-constrained, a fallback
     * beam of 4, so that the library, {@code ask} and {@code eval} answer alike unless told otherwise.
     */
    public record Options(Decoding decoding, SqlRules rules) {
        public Options {
            if (decoding == null || rules == null) throw new IllegalArgumentException("options need both decoding and rules");
        }

        /** {@link Decoding#DEFAULT} and {@link SqlRules#CONSTRAINED}. */
        public static Options defaults() {
            return new Options(Decoding.DEFAULT, SqlRules.CONSTRAINED);
        }

        public Options withDecoding(Decoding d) {
            return new Options(d, rules);
        }

        public Options withRules(SqlRules r) {
            return new Options(decoding, r);
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
        // the schema part of a prompt is the same for every question about one database: kept, it runs once
        this.generator = new Generator(model, tokenizer).reusePrefixes(PREFIX_SLOTS);
    }

    /**
     * Loads a model directory: {@code config.json}, {@code model.safetensors}, {@code vocab.json},
     * {@code merges.txt} (with the prompt's special tokens); or a gpt2 GGUF file, which holds the tokenizer too
     * ({@link GgufModelFiles}: ours, or llama.cpp's).
     *
     * @throws IllegalArgumentException naming the directory or file that is missing or wrong
     */
    public static TextToSql load(Path dir) {
        if (GgufModelFiles.isGguf(dir)) {
            GgufModelFiles.Model m = GgufModelFiles.load(dir);
            try {
                return new TextToSql(m.model().eval(), m.tokenizer());
            } catch (RuntimeException e) {
                m.close();
                throw new IllegalArgumentException(dir + ": " + e.getMessage(), e);
            }
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(Files.isRegularFile(dir) ? dir + " is neither a model folder nor a GGUF file"
                    : "model directory " + dir + " does not exist");
        }
        for (String f : List.of("config.json", "model.safetensors", "vocab.json", "merges.txt")) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IllegalArgumentException("model directory " + dir + " has no " + f);
            }
        }
        BpeTokenizer tok = BpeTokenizer.load(dir);
        GptModel model = GptModel.loadFrozen(dir, null); // answering trains nothing: no gradient buffer
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

    /**
     * An assistant for another thread: a {@link GptModel#replica} of this one's model (the weights and adapters shared,
     * not copied), the same tokenizer, options and adapter, and kept schema prompts of its own. Answers are this one's
     * to the bit. Close the replicas before this assistant, and change no adapter on it ({@link #useAdapter}) while they
     * answer; closing one frees only what is its own.
     */
    public TextToSql replica() {
        TextToSql t = new TextToSql(model.replica(), tokenizer);
        t.options = options;
        t.adapterDir = adapterDir;
        return t;
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
     * Answers several questions (question i about schema i), {@link Decoding#batchSize()} at a time; with a beam
     * ({@link Decoding#beamWidth()} above 1), one at a time, each the best of its {@link #candidates}.
     */
    public List<SqlAnswer> askAll(List<Schema> schemas, List<String> questions) {
        return askAll(schemas, questions, null);
    }

    /**
     * As {@link #askAll(List, List)}, telling {@code listener} (if not null) each token of question i's first decoding
     * as sequence i, as it is written (to stream the answer). The answer may still differ from what it heard: cut back
     * to a complete query, or replaced by a fallback beam's; beam searches are not streamed.
     */
    public List<SqlAnswer> askAll(List<Schema> schemas, List<String> questions, TokenListener listener) {
        if (options.decoding().beamWidth() == 1) return decodeAll(schemas, questions, listener);
        List<int[]> prompts = prompts(schemas, questions); // checks them all before the first search
        List<SqlAnswer> out = new ArrayList<>(questions.size());
        for (int i = 0; i < questions.size(); i++) {
            out.add(search(prompts.get(i), schemas.get(i), questions.get(i), options.decoding().beamWidth()).get(0));
        }
        return out;
    }

    /** The answers of {@link Decoding#generation()} (greedy by default), batched, whatever the beam width. */
    List<SqlAnswer> decodeAll(List<Schema> schemas, List<String> questions) {
        return decodeAll(schemas, questions, null);
    }

    private List<SqlAnswer> decodeAll(List<Schema> schemas, List<String> questions, TokenListener listener) {
        List<int[]> prompts = prompts(schemas, questions);
        TokenConstraint constraint = constraint(schemas, questions);
        long t0 = System.nanoTime();
        Decoding d = options.decoding();
        int[] reusable = new int[prompts.size()];
        for (int i = 0; i < reusable.length; i++) reusable[i] = schemaLength(prompts.get(i));
        List<Generation> gens = generator.generate(prompts, d.generation(), constraint, d.batchSize(), listener, reusable, format.endId());
        long each = (System.nanoTime() - t0) / Math.max(1, prompts.size());
        List<SqlAnswer> out = new ArrayList<>(gens.size());
        for (int i = 0; i < gens.size(); i++) {
            Generation g = gens.get(i);
            SqlAnswer a = answer(constraint, i, g, prompts.size() == 1 ? g.prefillNanos() + g.generateNanos() : each);
            if (constraint != null && d.fallbackBeam() > 1 && !a.complete()) a = fallback(a, prompts.get(i), schemas.get(i), questions.get(i));
            out.add(a);
        }
        return out;
    }

    /** The best complete candidate of a {@link Decoding#fallbackBeam()} search, timed with the first answer; else {@code first}. */
    private SqlAnswer fallback(SqlAnswer first, int[] prompt, Schema schema, String question) {
        for (SqlAnswer a : search(prompt, schema, question, options.decoding().fallbackBeam())) {
            if (a.complete()) {
                return new SqlAnswer(a.sql(), a.parses(), a.check(), a.promptTokens(), a.sqlTokens(), first.nanos() + a.nanos(), a.stopReason(), a.cut(),
                        first.prefillNanos() + a.prefillNanos(), first.decodeNanos() + a.decodeNanos());
            }
        }
        return first;
    }

    /**
     * The ranked answers of a beam search of {@link Decoding#beamWidth()} (the one answer of {@link Decoding#generation()}
     * with a width of 1): the queries that ended, best first by the model's log-probability of the whole query,
     * then, if fewer ended, those cut at the token limit. Each SQL text occurs once, so there may be fewer than the
     * width. Each is timed with the whole search.
     */
    public List<SqlAnswer> candidates(Schema schema, String question) {
        List<Schema> schemas = List.of(schema);
        List<String> questions = List.of(question);
        if (options.decoding().beamWidth() == 1) return decodeAll(schemas, questions);
        return search(prompts(schemas, questions).get(0), schema, question, options.decoding().beamWidth());
    }

    /** The beam search of {@code width} behind {@link #candidates}, on an encoded prompt. */
    private List<SqlAnswer> search(int[] prompt, Schema schema, String question, int width) {
        TokenConstraint constraint = constraint(List.of(schema), List.of(question));
        long t0 = System.nanoTime();
        List<Generator.Scored> beam = generator.beamSearch(prompt, width, options.decoding().generation().maxNewTokens(), constraint, 0,
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
     * the answer of {@link Decoding#generation()} (greedy by default) if {@code accept} takes it, else the first of the
     * beam's {@link #candidates} that it takes, else the first answer. The beam is searched only when needed.
     */
    public SqlAnswer ask(Schema schema, String question, java.util.function.Predicate<SqlAnswer> accept) {
        return orElseCandidate(schema, question, decodeAll(List.of(schema), List.of(question)).get(0), accept);
    }

    /** {@code first} if {@code accept} takes it, else the first other candidate it takes, else {@code first}. */
    SqlAnswer orElseCandidate(Schema schema, String question, SqlAnswer first, java.util.function.Predicate<SqlAnswer> accept) {
        if (accept.test(first) || options.decoding().beamWidth() == 1) return first;
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
        int reserve = Math.min(options.decoding().generation().maxNewTokens(), ctx / 3);
        List<int[]> prompts = new ArrayList<>(questions.size());
        for (int i = 0; i < questions.size(); i++) {
            String q = questions.get(i);
            if (q == null || q.isBlank()) throw new IllegalArgumentException("question " + i + " is empty");
            prompts.add(format.prompt(schemas.get(i), q, ctx, reserve));
        }
        return prompts;
    }

    private TokenConstraint constraint(List<Schema> schemas, List<String> questions) {
        return options.rules().constrained() ? new SqlConstraint(tokenizer, schemas, questions, options.rules()) : null;
    }

    private SqlAnswer answer(TokenConstraint constraint, int i, Generation g, long nanos) {
        int[] toks = g.tokens();
        int used = completePrefix(constraint, i, toks, g.stopReason(), format.endId());
        boolean cut = used < toks.length;
        // an answer that ran out of tokens inside a character shows its whole characters only, not U+FFFD
        byte[] bytes = tokenizer.decodeBytes(Arrays.copyOf(toks, used));
        int whole = SqlConstraint.completeChars(bytes);
        String sql = (cut || whole < bytes.length ? new String(bytes, 0, whole, java.nio.charset.StandardCharsets.UTF_8) : g.text()).strip();
        return new SqlAnswer(sql, SqlGuard.parses(sql), SqlGuard.check(sql), g.promptTokens(), used, nanos, g.stopReason(), cut,
                g.prefillNanos(), g.generateNanos());
    }

    /**
     * How many of sequence i's tokens to keep: all of them, unless a constrained generation stopped without its
     * end token (out of tokens, or of context); then the longest prefix after which the constraint would have
     * allowed the end, i.e. the last point where the text was a complete query (all tokens if there is none).
     */
    static int completePrefix(TokenConstraint constraint, int i, int[] toks, Generation.StopReason why, int endId) {
        if (constraint == null || why == Generation.StopReason.STOP_TOKEN || toks.length < 2) return toks.length;
        // the states after 0 .. n-1 tokens (cheap), then the end asked from the longest prefix down, so that the
        // guard parses as few prefixes as before
        TokenConstraint.State[] after = new TokenConstraint.State[toks.length];
        after[0] = constraint.start(i);
        for (int n = 1; n < toks.length; n++) after[n] = after[n - 1].next(toks[n - 1]);
        for (int n = toks.length - 1; n > 0; n--) {
            if (after[n].allows(endId)) return n;
        }
        return toks.length;
    }

    @Override
    public void close() {
        generator.close();
        model.close();
    }

    /** How many schemas' prompt beginnings are kept (each a cache row of the model's context length). */
    static final int PREFIX_SLOTS = 8;

    /** The length of a prompt's schema part: the tokens before {@code <|question|>} (0 if it has none). */
    private int schemaLength(int[] prompt) {
        int q = tokenizer.specialTokenId(PromptFormat.QUESTION);
        for (int i = 0; i < prompt.length; i++) if (prompt[i] == q) return i;
        return 0;
    }

    @Override
    public String toString() {
        return "TextToSql[" + model + ", " + tokenizer.vocabSize() + " tokens, " + options + "]";
    }
}
