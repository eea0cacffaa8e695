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
 * <p><b>Prompts that begin alike.</b> With {@link #reusePrefixes}, the caller may tell for each prompt how many of its
 * first tokens are worth keeping (a text-to-SQL prompt's schema, the same for every question about one database):
 * those positions' keys and values are kept in a store of a few slots, least recently used out first, and a later
 * prompt that begins with the same tokens copies them instead of running them again. The store is emptied when the
 * model's {@link GptModel#forwardVersion} changes (another adapter active, say).
 *
 * <p>Not thread-safe (the model is not); use one generator per thread, each with its own model. Close it to free its
 * caches early.
 */
public final class Generator implements AutoCloseable {
    private static final int MAX_TRIES = 256;

    private final GptModel model;
    private final BpeTokenizer tokenizer;
    private final int[] defaultStops;
    /** The batch's cache, kept from call to call while the batch size stays. */
    private KvCache cache;
    /** Kept prompt beginnings (null: none kept). */
    private Prefixes prefixes;

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

    /**
     * Keeps up to {@code slots} prompt beginnings (0: none) for {@link #generate(List, GenerationOptions,
     * TokenConstraint, int, TokenListener, int[], int...)} to reuse; returns this.
     */
    public Generator reusePrefixes(int slots) {
        if (slots < 0) throw new IllegalArgumentException("prefix slots must be >= 0, not " + slots);
        if (prefixes != null) prefixes.close();
        prefixes = slots == 0 ? null : new Prefixes(slots);
        return this;
    }

    /** A store of prompt beginnings: their tokens, and their keys and values in one cache row each. */
    private final class Prefixes implements AutoCloseable {
        final KvCache store;
        /** Prefix → slot, least recently used first. */
        final java.util.LinkedHashMap<Key, Integer> slots = new java.util.LinkedHashMap<>(16, 0.75f, true);
        /** The model's {@link GptModel#forwardVersion} the kept keys and values were computed under. */
        long version;

        Prefixes(int n) {
            store = model.newKvCache(n);
        }

        /** The slot holding exactly these tokens, or -1. */
        int find(int[] prompt, int n) {
            if (version != model.forwardVersion()) { // another adapter, or activations: what was kept is stale
                slots.clear();
                version = model.forwardVersion();
            }
            Integer slot = slots.get(new Key(Arrays.copyOf(prompt, n)));
            return slot == null ? -1 : slot;
        }

        /** Keeps the first n positions of {@code cache}'s row {@code seq}, holding these tokens. */
        void keep(int[] prompt, int n, KvCache cache, int seq) {
            int slot;
            if (slots.size() < store.batch()) slot = slots.size();
            else {
                var eldest = slots.entrySet().iterator().next();
                slot = eldest.getValue();
                slots.remove(eldest.getKey());
            }
            store.copyFrom(cache, seq, slot, n);
            slots.put(new Key(Arrays.copyOf(prompt, n)), slot);
        }

        @Override
        public void close() {
            store.close();
        }
    }

    /** Token ids compared by content. */
    private record Key(int[] tokens) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(tokens, k.tokens);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(tokens);
        }
    }

    /** Runs prompt {@code p} into row {@code seq} of the cache, its first {@code reuse} tokens from the store when kept. */
    private float[] prefill(KvCache cache, int seq, int[] p, int reuse) {
        if (prefixes == null || reuse <= 0 || reuse >= p.length) return model.prefill(cache, seq, p);
        int slot = prefixes.find(p, reuse);
        if (slot >= 0) {
            cache.copyFrom(prefixes.store, slot, seq, reuse);
        } else {
            model.prefill(cache, seq, Arrays.copyOf(p, reuse));
            prefixes.keep(p, reuse, cache, seq);
        }
        return model.prefill(cache, seq, Arrays.copyOfRange(p, reuse, p.length));
    }

    /** A cache of {@code batch} rows, the one of the last call when it has that many. */
    private KvCache cache(int batch) {
        if (cache == null || cache.batch() != batch) {
            if (cache != null) cache.close();
            cache = model.newKvCache(batch);
        }
        return cache;
    }

    @Override
    public void close() {
        if (cache != null) cache.close();
        cache = null;
        if (prefixes != null) prefixes.close();
        prefixes = null;
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
        return generate(prompts, options, constraint, batchSize, null, stopTokens);
    }

    /** As {@link #generate(List, GenerationOptions, TokenConstraint, int, int...)}, telling {@code listener} (if not null) each token as it is taken. */
    public List<Generation> generate(List<int[]> prompts, GenerationOptions options, TokenConstraint constraint, int batchSize,
                                     TokenListener listener, int... stopTokens) {
        return generate(prompts, options, constraint, batchSize, listener, null, stopTokens);
    }

    /**
     * As above, with {@code reusable[i]} the number of prompt i's first tokens worth keeping for later prompts (null:
     * none; see {@link #reusePrefixes}).
     */
    public List<Generation> generate(List<int[]> prompts, GenerationOptions options, TokenConstraint constraint, int batchSize,
                                     TokenListener listener, int[] reusable, int... stopTokens) {
        if (reusable != null && reusable.length != prompts.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + reusable.length + " reusable lengths");
        }
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
        KvCache cache = cache(Math.min(batchSize, Math.max(1, prompts.size())));
        for (int start = 0; start < prompts.size(); start += cache.batch()) {
            int n = Math.min(cache.batch(), prompts.size() - start);
            out.addAll(runBatch(cache, prompts.subList(start, start + n), start, options, constraint, listener, reusable, stops));
        }
        return out;
    }

    private List<Generation> runBatch(KvCache cache, List<int[]> prompts, int first, GenerationOptions options,
                                      TokenConstraint constraint, TokenListener listener, int[] reusable, int[] stops) {
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
        TokenConstraint.State[] state = new TokenConstraint.State[n]; // null without a constraint
        for (int b = 0; b < n; b++) {
            if (constraint != null) state[b] = constraint.start(first + b);
            samplers[b] = options.withSeed(options.seed() + first + b).sampler();
            int[] p = prompts.get(b);
            limit[b] = Math.min(options.maxNewTokens(), model.config().contextLength() - p.length);
            generated[b] = new int[limit[b]];
            long t0 = System.nanoTime();
            float[] row = prefill(cache, b, p, reusable == null ? 0 : reusable[first + b]);
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
                if (state[b] != null) state[b].prefer(row);
                int tok = pick(samplers[b], row, state[b]);
                if (tok < 0) {
                    reason[b] = Generation.StopReason.CONSTRAINED;
                    continue;
                }
                if (contains(stops, tok)) {
                    reason[b] = Generation.StopReason.STOP_TOKEN;
                    continue;
                }
                generated[b][count[b]++] = tok;
                if (listener != null) listener.token(first + b, tok);
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
                if (state[b] != null) state[b] = state[b].next(tok); // only a sequence that goes on needs its next state
                seqs[m] = b;
                next[m] = tok;
                m++;
            }
            nActive = m;
            if (m == 0) break;
            active = Arrays.copyOf(seqs, m);
            model.step(cache, active, Arrays.copyOf(next, m), logits); // one logits array for the whole generation
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
     * One hypothesis of {@link #beamSearch}: the generation, and its score: the sum of the log-probabilities of its
     * tokens and, if it ended, of its stop token (after the constraint's {@code prefer}, over the whole vocabulary).
     */
    public record Scored(Generation generation, double logProb) {}

    /**
     * Beam search: the {@code width} most likely continuations of {@code prompt}, kept one step at a time among the
     * tokens {@code constraint} allows (null: all), as sequence {@code seq} of the constraint. At each step every
     * live hypothesis offers its {@code width} best allowed tokens; the best {@code width} of all these go on, and
     * those that are a stop token end. The search stops when {@code width} hypotheses have ended, when none is left,
     * when the best live one is {@link #BEAM_MARGIN} below the best ended one (it could only end further below), or
     * at the token limit. Returned best first: the ended ones by score, then (only if fewer than {@code width}
     * ended) those cut at the limit. With width 1 it is greedy decoding. The cache holds 2 × width rows.
     */
    public List<Scored> beamSearch(int[] prompt, int width, int maxNewTokens, TokenConstraint constraint, int seq, int... stopTokens) {
        if (width <= 0) throw new IllegalArgumentException("beam width must be positive, not " + width);
        if (maxNewTokens <= 0) throw new IllegalArgumentException("maxNewTokens must be positive, not " + maxNewTokens);
        int ctx = model.config().contextLength();
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        if (prompt.length >= ctx) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens: no room to generate in the context of " + ctx);
        }
        int[] stops = stopTokens.length == 0 ? defaultStops : stopTokens;
        int V = model.config().vocabSize();
        int limit = Math.min(maxNewTokens, ctx - prompt.length);
        List<Beam> ended = new ArrayList<>();
        List<Beam> cutOff = new ArrayList<>();
        try (KvCache cache = model.newKvCache(2 * width)) {
            long t0 = System.nanoTime();
            float[] logits = new float[2 * width * V];
            System.arraycopy(model.prefill(cache, 0, prompt), 0, logits, 0, V);
            long prefill = System.nanoTime() - t0;
            List<Beam> live = List.of(new Beam(new int[0], 0.0, constraint == null ? null : constraint.start(seq)));
            int half = 0; // live beam i is in cache row half + i, its logits at i * V
            float[] row = new float[V];
            while (!live.isEmpty() && ended.size() < width) {
                List<Beam> offers = new ArrayList<>();
                for (int i = 0; i < live.size(); i++) {
                    Beam b = live.get(i);
                    System.arraycopy(logits, i * V, row, 0, V);
                    if (b.state != null) b.state.prefer(row);
                    double logZ = logSumExp(row);
                    for (int tok : bestAllowed(row, width, b.state)) {
                        offers.add(new Beam(b.tokens, b.score + row[tok] - logZ, b.state, i, tok));
                    }
                }
                offers.sort((x, y) -> Double.compare(y.score, x.score));
                List<Beam> next = new ArrayList<>(width);
                for (Beam o : offers) {
                    if (next.size() == width || ended.size() == width) break;
                    if (contains(stops, o.token)) ended.add(o);
                    else next.add(o.grown());
                }
                if (ended.size() == width || next.isEmpty()) break;
                double bestEnded = ended.stream().mapToDouble(Beam::score).max().orElse(Double.NEGATIVE_INFINITY);
                if (next.get(0).score < bestEnded - BEAM_MARGIN) break; // nothing left worth ending
                if (next.get(0).tokens.length == limit) {
                    cutOff.addAll(next);
                    break;
                }
                int other = width - half;
                int[] rows = new int[next.size()], toks = new int[next.size()];
                for (int j = 0; j < next.size(); j++) {
                    cache.copy(half + next.get(j).parent, other + j);
                    rows[j] = other + j;
                    toks[j] = next.get(j).token;
                }
                model.step(cache, rows, toks, logits);
                half = other;
                live = next;
            }
            long gen = System.nanoTime() - t0 - prefill;
            Generation.StopReason atLimit = limit < maxNewTokens ? Generation.StopReason.CONTEXT_FULL : Generation.StopReason.MAX_TOKENS;
            List<Scored> out = new ArrayList<>();
            for (Beam b : ended) out.add(scored(b.tokens, b.score, Generation.StopReason.STOP_TOKEN, prompt.length, prefill, gen));
            if (ended.size() < width) {
                for (Beam b : cutOff) out.add(scored(b.tokens, b.score, atLimit, prompt.length, prefill, gen));
            }
            if (out.isEmpty()) out.add(scored(live.get(0).tokens, live.get(0).score, Generation.StopReason.CONSTRAINED, prompt.length, prefill, gen));
            out.sort((x, y) -> x.generation().stopReason() == y.generation().stopReason() ? Double.compare(y.logProb(), x.logProb())
                    : x.generation().stopReason() == Generation.StopReason.STOP_TOKEN ? -1 : 1);
            return out.size() > width ? List.copyOf(out.subList(0, width)) : out;
        }
    }

    /**
     * A hypothesis: its tokens, score and constraint state (null without a constraint); as an offer, also the live
     * beam it grows ({@code parent}) and the token it adds, the state still being the parent's.
     */
    private record Beam(int[] tokens, double score, TokenConstraint.State state, int parent, int token) {
        Beam(int[] tokens, double score, TokenConstraint.State state) {
            this(tokens, score, state, 0, -1);
        }

        /** The offer taken: its token added, and the state moved on past it (only for offers that go on). */
        Beam grown() {
            int[] t = Arrays.copyOf(tokens, tokens.length + 1);
            t[tokens.length] = token;
            return new Beam(t, score, state == null ? null : state.next(token), parent, token);
        }
    }

    private Scored scored(int[] toks, double score, Generation.StopReason why, int promptTokens, long prefill, long gen) {
        String text = tokenizer == null ? "" : tokenizer.decode(toks);
        return new Scored(new Generation(toks, text, why, promptTokens, prefill, gen), score);
    }

    private static double logSumExp(float[] row) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : row) if (v > max) max = v;
        double sum = 0;
        for (float v : row) sum += Math.exp(v - max);
        return max + Math.log(sum);
    }

    /**
     * How far below the best allowed token's logit {@link #beamSearch} still looks for other allowed tokens, and how far
     * below the best ended hypothesis the live ones may fall before the search stops: an offer e^10 (22,000) times
     * less likely than the best rarely matters, and where few tokens are allowed this keeps the search from asking
     * the constraint about the whole vocabulary, or from running to the token limit on hopeless hypotheses.
     */
    static final float BEAM_MARGIN = 10f;

    /**
     * Up to {@code n} tokens the constraint allows, best logit first (ties: lower id), none more than
     * {@link #BEAM_MARGIN} below the first; if the best 64 hold no allowed token, the first allowed one of the rest
     * (so a beam of 1 picks what greedy picks). The whole vocabulary is sorted only when the best 64 do not settle it.
     */
    private static int[] bestAllowed(float[] row, int n, TokenConstraint.State state) {
        int[] out = new int[n];
        int found = 0;
        int k = Math.min(row.length, Math.max(64, n));
        int[] top = topK(row, k);
        float floor = Float.NEGATIVE_INFINITY;
        for (int tok : top) {
            if (row[tok] < floor) return Arrays.copyOf(out, found);
            if (state == null || state.allows(tok)) {
                if (found == 0) floor = row[tok] - BEAM_MARGIN;
                out[found++] = tok;
                if (found == n) return out;
            }
        }
        if (k < row.length) {
            long[] order = descending(row);
            for (int i = k; i < order.length && found < n; i++) {
                int tok = (int) order[i];
                if (row[tok] == Float.NEGATIVE_INFINITY || row[tok] < floor) break;
                if (state.allows(tok)) {
                    if (found == 0) floor = row[tok] - BEAM_MARGIN;
                    out[found++] = tok;
                }
            }
        }
        return Arrays.copyOf(out, found);
    }

    /** The ids of the k largest entries, largest first (ties: lower id first), by the order of {@link #descending}. */
    private static int[] topK(float[] row, int k) {
        long[] heap = new long[k]; // a min-heap on the sort key's reverse: the root is the worst kept
        int size = 0;
        for (int v = 0; v < row.length; v++) {
            long key = key(row, v);
            if (size < k) {
                heap[size] = key;
                int c = size++;
                while (c > 0 && heap[(c - 1) / 2] < key) { // max-heap on key = worst (largest key) at the root
                    heap[c] = heap[(c - 1) / 2];
                    c = (c - 1) / 2;
                }
                heap[c] = key;
            } else if (key < heap[0]) {
                int c = 0;
                while (true) {
                    int l = 2 * c + 1, r = l + 1, big = c;
                    long bigKey = key;
                    if (l < size && heap[l] > bigKey) { big = l; bigKey = heap[l]; }
                    if (r < size && heap[r] > bigKey) { big = r; }
                    if (big == c) break;
                    heap[c] = heap[big];
                    c = big;
                }
                heap[c] = key;
            }
        }
        long[] kept = Arrays.copyOf(heap, size);
        Arrays.sort(kept);
        int[] out = new int[size];
        for (int i = 0; i < size; i++) out[i] = (int) kept[i];
        return out;
    }

    /** A key that sorts ascending as (descending logit, then ascending id). */
    private static long key(float[] row, int v) {
        int bits = Float.floatToIntBits(row[v]);
        int k = bits < 0 ? bits ^ 0x7fffffff : bits; // monotone in the float's value
        return ((long) ~k << 32) | v;
    }

    /** Every id, ordered by {@link #key}. */
    private static long[] descending(float[] row) {
        long[] order = new long[row.length];
        for (int v = 0; v < row.length; v++) order[v] = key(row, v);
        Arrays.sort(order);
        return order;
    }

    /**
     * The sampler's choice among the tokens the constraint allows. After {@link #MAX_TRIES} refusals the rest of
     * the vocabulary is searched, most likely first (the allowed token may be a rare one, such as the next
     * character of a quoted column name); -1 if the constraint allows no token at all. No state: no constraint.
     */
    private static int pick(Sampler sampler, float[] row, TokenConstraint.State state) {
        for (int tries = 0; tries < MAX_TRIES; tries++) {
            int tok = sampler.sample(row);
            if (state == null || state.allows(tok)) return tok;
            row[tok] = Float.NEGATIVE_INFINITY;
        }
        for (long o : descending(row)) {
            int tok = (int) o;
            if (row[tok] == Float.NEGATIVE_INFINITY) break;
            if (state.allows(tok)) return tok;
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
