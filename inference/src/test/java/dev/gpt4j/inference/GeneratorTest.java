package dev.gpt4j.inference;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.tokenizer.BpeTokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GeneratorTest {

    /** Greedy decoding the slow way: the whole sequence through the uncached forward at every step. */
    static int[] uncachedGreedy(GptModel m, int[] prompt, int n) {
        return uncachedGreedy(m, prompt, n, (g, count, t) -> true);
    }

    /** The same, among the tokens {@code rule} allows after the tokens chosen so far. */
    static int[] uncachedGreedy(GptModel m, int[] prompt, int n, Rule rule) {
        int[] seq = prompt.clone();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            float[] row = m.logits(seq, 1, seq.length).getRow(seq.length - 1).toFloatVector();
            int best = -1;
            for (int v = 0; v < row.length; v++) if (rule.allows(out, i, v) && (best < 0 || row[v] > row[best])) best = v;
            out[i] = best;
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = best;
        }
        return out;
    }

    @Test
    void greedyEqualsTheUncachedLoopAndRespectsTheContext() {
        BpeTokenizer tok = Fixtures.tokenizer();
        try (GptModel m = Fixtures.model(48, 1)) {
            int[] prompt = tok.encode("SELECT name FROM");
            Generator gen = new Generator(m, null);
            Generation g = gen.generate(prompt, GenerationOptions.greedy(20));
            assertEquals(Generation.StopReason.MAX_TOKENS, g.stopReason());
            assertArrayEquals(uncachedGreedy(m, prompt, 20), g.tokens());
            Generation full = gen.generate(prompt, GenerationOptions.greedy(1000));
            assertEquals(Generation.StopReason.CONTEXT_FULL, full.stopReason());
            assertEquals(48 - prompt.length, full.tokens().length);
            assertArrayEquals(g.tokens(), Arrays.copyOf(full.tokens(), 20));
            assertThrows(IllegalArgumentException.class, () -> gen.generate(new int[48], GenerationOptions.greedy(1)));
            assertThrows(IllegalArgumentException.class, () -> gen.generate(new int[0], GenerationOptions.greedy(1)));
        }
    }

    /**
     * A constraint that depends on what each sequence has generated (no token repeats one of the two before it):
     * batched greedy decoding equals the uncached greedy loop that applies the rule itself, for every sequence of
     * the batch, and every beam hypothesis keeps the rule. A generator that did not move each sequence's and each
     * hypothesis's own state on (or shared one between them) would not.
     */
    @Test
    void eachSequenceAndHypothesisCarriesItsOwnState() {
        BpeTokenizer tok = Fixtures.tokenizer();
        Rule noRepeat = (g, n, t) -> (n < 1 || g[n - 1] != t) && (n < 2 || g[n - 2] != t);
        try (GptModel m = Fixtures.model(64, 8)) {
            Generator gen = new Generator(m, tok);
            List<int[]> prompts = new ArrayList<>();
            for (String p : List.of("SELECT", "How many singers are there?", "SELECT name , country FROM singer WHERE")) prompts.add(tok.encode(p));
            List<Generation> batched = gen.generate(prompts, GenerationOptions.greedy(12), byRule(noRepeat), 2);
            int freeRepeats = 0;
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(uncachedGreedy(m, prompts.get(i), 12, noRepeat), batched.get(i).tokens(), "prompt " + i);
                int[] free = uncachedGreedy(m, prompts.get(i), 12);
                for (int k = 0; k < free.length; k++) if (!noRepeat.allows(free, k, free[k])) freeRepeats++;
            }
            assertTrue(freeRepeats > 0, "free greedy decoding should repeat tokens, or the rule changes nothing");
            for (Generator.Scored s : gen.beamSearch(prompts.get(1), 3, 12, byRule(noRepeat), 0)) {
                int[] t = s.generation().tokens();
                for (int k = 0; k < t.length; k++) assertTrue(noRepeat.allows(t, k, t[k]), "hypothesis " + Arrays.toString(t) + " at " + k);
            }
        }
    }

    @Test
    void stopsAtAStopTokenAndAtAStopString() {
        BpeTokenizer tok = Fixtures.tokenizer();
        try (GptModel m = Fixtures.model(64, 2)) {
            int[] prompt = tok.encode("SELECT count(*)");
            Generator gen = new Generator(m, tok);
            Generation free = gen.generate(prompt, GenerationOptions.greedy(30));
            // stop at the token that comes 4th: 3 tokens before it
            int stop = free.tokens()[3];
            int first = 0;
            while (free.tokens()[first] != stop) first++;
            Generation g = gen.generate(List.of(prompt), GenerationOptions.greedy(30), null, 1, stop).get(0);
            assertEquals(Generation.StopReason.STOP_TOKEN, g.stopReason());
            assertArrayEquals(Arrays.copyOf(free.tokens(), first), g.tokens());
            // stop string: a piece of the free text; the text is cut right before it
            String text = free.text();
            assertTrue(text.length() > 6, text);
            String piece = text.substring(text.length() / 2, text.length() / 2 + 2);
            Generation s = gen.generate(prompt, GenerationOptions.greedy(30).withStopStrings(List.of(piece, "\u0000never")));
            assertEquals(Generation.StopReason.STOP_STRING, s.stopReason());
            assertEquals(text.substring(0, text.indexOf(piece)), s.text());
        }
    }

    /** A constraint's {@code prefer} is applied before the choice: a large bonus on one token makes greedy pick it. */
    @Test
    void aPreferenceShiftsTheChoice() {
        BpeTokenizer tok = Fixtures.tokenizer();
        try (GptModel m = Fixtures.model(64, 2)) {
            int[] prompt = tok.encode("SELECT count(*)");
            Generator gen = new Generator(m, tok);
            int free = gen.generate(prompt, GenerationOptions.greedy(1)).tokens()[0];
            int wanted = free == 7 ? 8 : 7;
            TokenConstraint.State anyFavouringWanted = new TokenConstraint.State() {
                @Override
                public boolean allows(int token) {
                    return true;
                }

                @Override
                public TokenConstraint.State next(int token) {
                    return this;
                }

                @Override
                public void prefer(float[] logits) {
                    logits[wanted] += 1e6f;
                }
            };
            TokenConstraint favour = seq -> anyFavouringWanted;
            int[] out = gen.generate(List.of(prompt), GenerationOptions.greedy(3), favour, 1).get(0).tokens();
            assertEquals(List.of(wanted, wanted, wanted), java.util.Arrays.stream(out).boxed().toList());
        }
    }

    @Test
    void batchesGiveWhatSingleRunsGive() {
        BpeTokenizer tok = Fixtures.tokenizer();
        try (GptModel m = Fixtures.model(64, 3)) {
            Generator gen = new Generator(m, tok);
            List<int[]> prompts = new ArrayList<>();
            for (String p : List.of("SELECT", "How many singers are there?", "SELECT name , country FROM singer WHERE", "T1"))
                prompts.add(tok.encode(p));
            for (GenerationOptions o : List.of(GenerationOptions.greedy(12), GenerationOptions.sampled(12, 1.0, 20, 0.95, 7))) {
                List<Generation> batched = gen.generate(prompts, o, null, 3);
                for (int i = 0; i < prompts.size(); i++) {
                    Generation single = gen.generate(List.of(prompts.get(i)), o.withSeed(o.seed() + i), null, 1).get(0);
                    assertArrayEquals(single.tokens(), batched.get(i).tokens(), o + " prompt " + i);
                }
            }
        }
    }

    @Test
    void samplingIsSeededAndVaries() {
        BpeTokenizer tok = Fixtures.tokenizer();
        try (GptModel m = Fixtures.model(64, 4)) {
            Generator gen = new Generator(m, tok);
            int[] p = tok.encode("SELECT");
            GenerationOptions o = GenerationOptions.sampled(20, 1.5, 0, 1.0, 11);
            assertArrayEquals(gen.generate(p, o).tokens(), gen.generate(p, o).tokens());
            boolean differs = false;
            for (long seed = 12; seed < 17 && !differs; seed++) {
                differs = !Arrays.equals(gen.generate(p, o).tokens(), gen.generate(p, o.withSeed(seed)).tokens());
            }
            assertTrue(differs, "other seeds should give other text at temperature 1.5");
        }
    }

    /** Log-probability of {@code next} after {@code seq}, from the uncached forward over the whole vocabulary. */
    static double uncachedLogProb(GptModel m, int[] seq, int next) {
        float[] row = m.logits(seq, 1, seq.length).getRow(seq.length - 1).toFloatVector();
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : row) max = Math.max(max, v);
        for (float v : row) sum += Math.exp(v - max);
        return row[next] - max - Math.log(sum);
    }

    static int[] concat(int[] a, int... b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Only the given tokens. */
    static TokenConstraint only(int... allowed) {
        return byRule((generated, count, token) -> Arrays.stream(allowed).anyMatch(a -> a == token));
    }

    /** A rule on the tokens generated so far ({@code count} of them) and the candidate. */
    interface Rule {
        boolean allows(int[] generated, int count, int token);
    }

    /** The constraint of a rule: each state carries its tokens, so a state that beam hypotheses share must stay as it is. */
    static TokenConstraint byRule(Rule rule) {
        return seq -> new RuleState(rule, new int[0]);
    }

    record RuleState(Rule rule, int[] tokens) implements TokenConstraint.State {
        @Override
        public boolean allows(int token) {
            return rule.allows(tokens, tokens.length, token);
        }

        @Override
        public TokenConstraint.State next(int token) {
            return new RuleState(rule, concat(tokens, token));
        }
    }

    @Test
    void aBeamOfOneIsGreedy() {
        BpeTokenizer tok = Fixtures.tokenizer();
        try (GptModel m = Fixtures.model(64, 5)) {
            Generator gen = new Generator(m, tok);
            int[] p = tok.encode("SELECT name FROM");
            int[] free = gen.generate(p, GenerationOptions.greedy(20)).tokens();
            int stop = free[5];
            // a constraint that refuses every third token id, and greedy's third choice
            TokenConstraint c = byRule((g, n, t) -> t % 3 != 0 && !(n == 2 && t == free[2]));
            Generation greedy = gen.generate(List.of(p), GenerationOptions.greedy(20), c, 1, stop).get(0);
            List<Generator.Scored> beam = gen.beamSearch(p, 1, 20, c, 0, stop);
            assertEquals(1, beam.size());
            assertArrayEquals(greedy.tokens(), beam.get(0).generation().tokens());
            assertEquals(greedy.stopReason(), beam.get(0).generation().stopReason());
            assertEquals(greedy.text(), beam.get(0).generation().text());
        }
    }

    /**
     * With four allowed tokens (three words and the stop) and two new tokens at most, a beam of 16 keeps every
     * hypothesis: the 4 that end must come first, in the order of their exact log-probabilities, then the 9 cut at
     * the limit. Scores are checked against the uncached forward, which also checks the cache rows' copying.
     */
    @Test
    void aWideBeamFindsTheExactRanking() {
        BpeTokenizer tok = Fixtures.tokenizer();
        // GPT-2's 0.02 init: every logit is within Generator.BEAM_MARGIN of the others, so no offer is cut off
        try (GptModel m = GptModel.create(new dev.gpt4j.core.GptConfig(tok.vocabSize(), 64, 32, 2, 4, 0.0, 1e-5, true, true), 6).eval()) {
            Generator gen = new Generator(m, tok);
            int[] p = tok.encode("SELECT count(*)");
            int a = 7, b = 11, c = 5, stop = 13;
            List<Generator.Scored> beam = gen.beamSearch(p, 16, 2, only(a, b, c, stop), 0, stop);
            List<int[]> ends = new ArrayList<>(), cut = new ArrayList<>();
            ends.add(new int[0]);
            for (int x : new int[] {a, b, c}) {
                ends.add(new int[] {x});
                for (int y : new int[] {a, b, c}) cut.add(new int[] {x, y});
            }
            assertEquals(ends.size() + cut.size(), beam.size());
            java.util.function.ToDoubleFunction<int[]> exact = t -> {
                double lp = 0;
                for (int i = 0; i < t.length; i++) lp += uncachedLogProb(m, concat(p, Arrays.copyOf(t, i)), t[i]);
                return lp;
            };
            ends.sort((x, y) -> Double.compare(exact.applyAsDouble(concat(y, stop)),
                    exact.applyAsDouble(concat(x, stop))));
            cut.sort((x, y) -> Double.compare(exact.applyAsDouble(y), exact.applyAsDouble(x)));
            for (int i = 1; i < beam.size(); i++) {
                if (i == ends.size()) continue;
                double gap = beam.get(i - 1).logProb() - beam.get(i).logProb();
                assertTrue(gap > 1e-4, "hypotheses " + (i - 1) + " and " + i + " are too close (" + gap + ") to rank reliably");
            }
            for (int i = 0; i < beam.size(); i++) {
                boolean ended = i < ends.size();
                int[] want = ended ? ends.get(i) : cut.get(i - ends.size());
                Generator.Scored s = beam.get(i);
                assertArrayEquals(want, s.generation().tokens(), "hypothesis " + i);
                assertEquals(ended ? Generation.StopReason.STOP_TOKEN : Generation.StopReason.MAX_TOKENS, s.generation().stopReason());
                assertEquals(exact.applyAsDouble(ended ? concat(want, stop) : want), s.logProb(), 1e-4, "hypothesis " + i);
            }
        }
    }

    /** An ordinary beam: distinct hypotheses, best first, each scored with its exact log-probability, constraint kept. */
    @Test
    void beamHypothesesAreDistinctSortedAndExactlyScored() {
        BpeTokenizer tok = Fixtures.tokenizer();
        try (GptModel m = Fixtures.model(64, 7)) {
            Generator gen = new Generator(m, tok);
            int[] p = tok.encode("How many singers are there?");
            int[] free = gen.generate(p, GenerationOptions.greedy(12)).tokens();
            int stop = free[2];
            Rule rule = (g, n, t) -> t % 5 != 1;
            TokenConstraint c = byRule(rule);
            List<Generator.Scored> beam = gen.beamSearch(p, 4, 12, c, 0, stop);
            assertEquals(4, beam.size());
            java.util.Set<List<Integer>> seen = new java.util.HashSet<>();
            double last = Double.POSITIVE_INFINITY;
            for (Generator.Scored s : beam) {
                int[] t = s.generation().tokens();
                assertTrue(seen.add(Arrays.stream(t).boxed().toList()), "a hypothesis came twice");
                boolean ended = s.generation().stopReason() == Generation.StopReason.STOP_TOKEN;
                int[] all = ended ? concat(t, stop) : t;
                double lp = 0;
                for (int i = 0; i < all.length; i++) {
                    assertTrue(rule.allows(all, i, all[i]), "token " + all[i] + " is not allowed");
                    lp += uncachedLogProb(m, concat(p, Arrays.copyOf(all, i)), all[i]);
                }
                assertEquals(lp, s.logProb(), 1e-4);
                if (ended) {
                    assertTrue(s.logProb() <= last, "not best first");
                    last = s.logProb();
                }
            }
            assertThrows(IllegalArgumentException.class, () -> gen.beamSearch(p, 0, 12, c, 0, stop));
        }
    }

    /**
     * Kept prompt beginnings belong to the weights they were computed with: after an adapter is activated (or
     * switched, or deactivated) a prompt with a kept beginning is decoded as the uncached loop decodes it with the
     * adapter now active, not from the stale keys and values.
     */
    @Test
    void keptPromptBeginningsAreDroppedWhenTheAdapterChanges() {
        BpeTokenizer tok = Fixtures.tokenizer();
        try (GptModel m = Fixtures.model(64, 5)) {
            m.eval();
            int[] p1 = tok.encode("CREATE TABLE t (a, b) what is a"), p2 = tok.encode("CREATE TABLE t (a, b) count b");
            int shared = 0;
            while (shared < Math.min(p1.length, p2.length) && p1[shared] == p2[shared]) shared++;
            assertTrue(shared > 3, "the prompts share a beginning");
            Generator gen = new Generator(m, null).reusePrefixes(2);
            GenerationOptions g = GenerationOptions.greedy(16);
            int[] reuse = {shared};
            gen.generate(List.of(p1), g, null, 1, null, reuse, new int[0]); // keeps p1's beginning, computed without an adapter
            dev.gpt4j.core.LoraAdapter a = dev.gpt4j.core.LoraAdapter.create(
                    dev.gpt4j.core.LoraConfig.parse("r=8,alpha=16,targets=c_attn"), m.config(), "t", 7);
            a.params().values().assign(org.nd4j.linalg.factory.Nd4j.randn(a.params().values().dataType(), a.params().values().shape()).muli(2));
            m.addAdapter("t", a);
            m.setActiveAdapter("t");
            int[] with = gen.generate(List.of(p2), g, null, 1, null, reuse, new int[0]).get(0).tokens();
            assertArrayEquals(uncachedGreedy(m, p2, 16), with, "decoded with the adapter, not from the beginning kept without it");
            m.setActiveAdapter(null);
            int[] without = gen.generate(List.of(p2), g, null, 1, null, reuse, new int[0]).get(0).tokens();
            assertArrayEquals(uncachedGreedy(m, p2, 16), without);
            assertFalse(Arrays.equals(with, without), "the adapter changes the answer (else this test shows nothing)");
        }
    }
}
