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
        int[] seq = prompt.clone();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            float[] row = m.logits(seq, 1, seq.length).getRow(seq.length - 1).toFloatVector();
            int best = 0;
            for (int v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
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
            TokenConstraint favour = new TokenConstraint() {
                @Override
                public boolean allows(int seq, int[] generated, int count, int token) {
                    return true;
                }

                @Override
                public void prefer(int seq, int[] generated, int count, float[] logits) {
                    logits[wanted] += 1e6f;
                }
            };
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
}
