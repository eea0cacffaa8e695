package dev.gpt4j.inference;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.KvCache;
import dev.gpt4j.tokenizer.BpeTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The generation loop of Raschka ch. 5 with a KV cache: the prompt is run once, then one token per step,
 * picked in Java by a {@link Sampler}, until a stop token, a stop string, the token limit or the end of the
 * context. Several prompts can run as one batch (each its own cache row and length, so no padding).
 *
 * <pre>{@code
 * var gen = new Generator(model, tokenizer);
 * Generation g = gen.generate("Every effort moves you", GenerationOptions.sampled(30, 1.0, 40, 1.0, 123));
 * System.out.println(g.text());
 * }</pre>
 * Not thread-safe (the model is not); use one generator per thread, each with its own model.
 */
public final class Generator {
    private static final int MAX_TRIES = 256;

    private final GptModel model;
    private final BpeTokenizer tokenizer;
    private final int[] defaultStops;

    /** A generator that stops at the tokenizer's {@code <|endoftext|>} if it has one. */
    public Generator(GptModel model, BpeTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        Integer end = tokenizer == null ? null : tokenizer.specialTokens().get(BpeTokenizer.END_OF_TEXT);
        this.defaultStops = end == null ? new int[0] : new int[] {end};
        if (tokenizer != null && tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " tokens but the model only "
                    + model.config().vocabSize());
        }
    }

    public GptModel model() {
        return model;
    }

    /** Encodes the prompt (special tokens allowed), generates, and returns the continuation. */
    public Generation generate(String prompt, GenerationOptions options) {
        if (tokenizer == null) throw new IllegalStateException("this generator has no tokenizer: pass token ids");
        return generate(tokenizer.encode(prompt), options);
    }

    /** Generates after {@code prompt} (token ids), stopping at the end-of-text token. */
    public Generation generate(int[] prompt, GenerationOptions options) {
        return generate(List.of(prompt), options, null, 1, defaultStops).get(0);
    }

    /**
     * Generates for several prompts, {@code batchSize} at a time (one cache row each), with an optional
     * constraint on the tokens and the given stop tokens (none given: the end-of-text token). Sequence i of
     * the list samples with seed {@code options.seed() + i} and is seq i for the constraint, so results do not
     * depend on the batch size.
     */
    public List<Generation> generate(List<int[]> prompts, GenerationOptions options, TokenConstraint constraint, int batchSize,
                                     int... stopTokens) {
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, not " + batchSize);
        int ctx = model.config().contextLength();
        for (int i = 0; i < prompts.size(); i++) {
            int n = prompts.get(i).length;
            if (n == 0) throw new IllegalArgumentException("prompt " + i + " is empty");
            if (n >= ctx) {
                throw new IllegalArgumentException("prompt " + i + " has " + n + " tokens: no room to generate in the context of " + ctx);
            }
        }
        int[] stops = stopTokens.length == 0 ? defaultStops : stopTokens;
        if (!options.stopStrings().isEmpty() && tokenizer == null) {
            throw new IllegalStateException("stop strings need a tokenizer to read the text");
        }
        List<Generation> out = new ArrayList<>(prompts.size());
        try (KvCache cache = model.newKvCache(Math.min(batchSize, Math.max(1, prompts.size())))) {
            for (int start = 0; start < prompts.size(); start += cache.batch()) {
                int n = Math.min(cache.batch(), prompts.size() - start);
                out.addAll(runBatch(cache, prompts.subList(start, start + n), start, options, constraint, stops));
            }
        }
        return out;
    }

    private List<Generation> runBatch(KvCache cache, List<int[]> prompts, int first, GenerationOptions options,
                                      TokenConstraint constraint, int[] stops) {
        int n = prompts.size();
        int V = model.config().vocabSize();
        cache.reset();
        Sampler[] samplers = new Sampler[n];
        int[][] generated = new int[n][];
        int[] count = new int[n];
        int[] limit = new int[n];
        long[] prefill = new long[n];
        Generation.StopReason[] reason = new Generation.StopReason[n];
        String[] text = new String[n];
        float[] logits = new float[n * V];
        for (int b = 0; b < n; b++) {
            samplers[b] = options.withSeed(options.seed() + first + b).sampler();
            int[] p = prompts.get(b);
            limit[b] = Math.min(options.maxNewTokens(), model.config().contextLength() - p.length);
            generated[b] = new int[limit[b]];
            long t0 = System.nanoTime();
            float[] row = cache.prefill(b, p);
            prefill[b] = System.nanoTime() - t0;
            System.arraycopy(row, 0, logits, b * V, V);
        }
        long t0 = System.nanoTime();
        int[] active = new int[n];
        for (int b = 0; b < n; b++) active[b] = b;
        int nActive = n;
        float[] row = new float[V];
        while (nActive > 0) {
            int[] seqs = new int[nActive];
            int[] next = new int[nActive];
            int m = 0;
            for (int i = 0; i < nActive; i++) {
                int b = active[i];
                System.arraycopy(logits, i * V, row, 0, V);
                if (constraint != null) constraint.prefer(first + b, generated[b], count[b], row);
                int tok = pick(samplers[b], row, constraint, first + b, generated[b], count[b]);
                if (tok < 0) {
                    reason[b] = Generation.StopReason.CONSTRAINED;
                    continue;
                }
                if (contains(stops, tok)) {
                    reason[b] = Generation.StopReason.STOP_TOKEN;
                    continue;
                }
                generated[b][count[b]++] = tok;
                if (!options.stopStrings().isEmpty()) {
                    String t = tokenizer.decode(Arrays.copyOf(generated[b], count[b]));
                    int cut = firstStop(t, options.stopStrings());
                    if (cut >= 0) {
                        text[b] = t.substring(0, cut);
                        reason[b] = Generation.StopReason.STOP_STRING;
                        continue;
                    }
                }
                if (count[b] == limit[b]) {
                    reason[b] = limit[b] < options.maxNewTokens() ? Generation.StopReason.CONTEXT_FULL : Generation.StopReason.MAX_TOKENS;
                    continue;
                }
                seqs[m] = b;
                next[m] = tok;
                m++;
            }
            nActive = m;
            if (m == 0) break;
            active = Arrays.copyOf(seqs, m);
            cache.step(active, Arrays.copyOf(next, m), logits); // one logits array for the whole generation
        }
        long genNanos = System.nanoTime() - t0;
        List<Generation> out = new ArrayList<>(n);
        for (int b = 0; b < n; b++) {
            int[] toks = Arrays.copyOf(generated[b], count[b]);
            String t = text[b] != null ? text[b] : tokenizer == null ? "" : tokenizer.decode(toks);
            out.add(new Generation(toks, t, reason[b], prompts.get(b).length, prefill[b], genNanos));
        }
        return out;
    }

    /**
     * The sampler's choice among the tokens the constraint allows. After {@link #MAX_TRIES} refusals the rest of
     * the vocabulary is searched, most likely first (the allowed token may be a rare one, such as the next
     * character of a quoted column name); -1 if the constraint allows no token at all.
     */
    private static int pick(Sampler sampler, float[] row, TokenConstraint constraint, int seq, int[] generated, int count) {
        for (int tries = 0; tries < MAX_TRIES; tries++) {
            int tok = sampler.sample(row);
            if (constraint == null || constraint.allows(seq, generated, count, tok)) return tok;
            row[tok] = Float.NEGATIVE_INFINITY;
        }
        long[] order = new long[row.length]; // (descending logit, then id) as one sortable key
        for (int v = 0; v < row.length; v++) {
            int bits = Float.floatToIntBits(row[v]);
            int key = bits < 0 ? bits ^ 0x7fffffff : bits; // monotone in the float's value
            order[v] = ((long) ~key << 32) | v;
        }
        java.util.Arrays.sort(order);
        for (long o : order) {
            int tok = (int) o;
            if (row[tok] == Float.NEGATIVE_INFINITY) break;
            if (constraint.allows(seq, generated, count, tok)) return tok;
        }
        return -1;
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) if (x == v) return true;
        return false;
    }

    private static int firstStop(String text, List<String> stops) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }
}
