package dev.gpt4j.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The KV cache must not change what the model computes: at every generation step the cached logits equal
 * the logits of a full uncached forward over the whole sequence (within 1e-5), and greedy decoding picks the
 * same tokens, over several configs and prompt lengths.
 */
class KvCacheTest {
    static final double TOL = 1e-5;

    static Stream<Arguments> configs() {
        return Stream.of(
                // V, T, C, L, H, bias, tied, prompt length
                Arguments.of(new GptConfig(97, 40, 32, 2, 4, 0.0, 1e-5, true, true), 1),
                Arguments.of(new GptConfig(97, 40, 32, 2, 4, 0.0, 1e-5, true, true), 7),
                Arguments.of(new GptConfig(61, 48, 48, 3, 3, 0.1, 1e-5, false, false), 19),
                Arguments.of(new GptConfig(128, 64, 64, 1, 1, 0.0, 1e-5, true, false), 30),
                Arguments.of(new GptConfig(200, 32, 24, 2, 6, 0.0, 1e-5, false, true), 2));
    }

    /** A model whose logits spread over several units (GPT-2's 0.02 init gives nearly flat logits). */
    static GptModel model(GptConfig cfg, long seed) {
        GptModel m = GptModel.create(cfg, seed);
        m.params().values().muli(3.0);
        return m.eval();
    }

    static int[] prompt(int n, int V, long seed) {
        Random r = new Random(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = r.nextInt(V);
        return p;
    }

    static float[] uncachedLastRow(GptModel m, int[] seq) {
        INDArray logits = m.logits(seq, 1, seq.length);
        return logits.getRow(seq.length - 1).toFloatVector();
    }

    static int argmax(float[] a, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
        return best;
    }

    @ParameterizedTest
    @MethodSource("configs")
    void cachedLogitsEqualUncachedAtEveryStep(GptConfig cfg, int promptLength) {
        try (GptModel m = model(cfg, 3); KvCache cache = m.newKvCache(1)) {
            int[] seq = prompt(promptLength, cfg.vocabSize(), promptLength);
            float[] cached = m.prefill(cache, 0, seq);
            double spread = 0;
            int steps = 0;
            while (true) {
                float[] full = uncachedLastRow(m, seq);
                assertEquals(full.length, cached.length);
                for (int i = 0; i < full.length; i++) {
                    assertEquals(full[i], cached[i], TOL, "logit " + i + " at length " + seq.length);
                    spread = Math.max(spread, Math.abs(full[i]));
                }
                int next = argmax(full, 0, full.length);
                assertEquals(next, argmax(cached, 0, cached.length), "greedy token at length " + seq.length);
                if (seq.length == cfg.contextLength()) break;
                seq = Arrays.copyOf(seq, seq.length + 1);
                seq[seq.length - 1] = next;
                cached = m.step(cache, new int[] {next});
                steps++;
            }
            assertEquals(cfg.contextLength(), cache.length(0));
            assertEquals(cfg.contextLength() - promptLength, steps);
            assertTrue(spread > 1.0, "logits should spread over units for the tolerance to mean something: " + spread);
            assertThrows(IllegalArgumentException.class, () -> m.step(cache, new int[] {0}), "full context");
        }
    }

    @Test
    void batchedSequencesMatchSingleOnes() {
        GptConfig cfg = new GptConfig(97, 40, 32, 2, 4, 0.0, 1e-5, true, true);
        int[][] prompts = {prompt(3, 97, 1), prompt(11, 97, 2), prompt(1, 97, 3)};
        try (GptModel m = model(cfg, 5); KvCache batch = m.newKvCache(3); KvCache single = m.newKvCache(1)) {
            int[] next = new int[3];
            float[][] singleLogits = new float[3][];
            for (int b = 0; b < 3; b++) {
                next[b] = argmax(m.prefill(batch, b, prompts[b]), 0, 97);
            }
            // 6 steps with all three, then 4 with sequences 2 and 0 only (in that order)
            int[][] generated = new int[3][];
            for (int b = 0; b < 3; b++) generated[b] = new int[] {next[b]};
            for (int s = 0; s < 10; s++) {
                int[] seqs = s < 6 ? new int[] {0, 1, 2} : new int[] {2, 0};
                int[] toks = new int[seqs.length];
                for (int i = 0; i < seqs.length; i++) toks[i] = generated[seqs[i]][generated[seqs[i]].length - 1];
                float[] out = m.step(batch, seqs, toks, new float[seqs.length * 97]);
                for (int i = 0; i < seqs.length; i++) {
                    int b = seqs[i];
                    int t = argmax(out, i * 97, 97);
                    generated[b] = Arrays.copyOf(generated[b], generated[b].length + 1);
                    generated[b][generated[b].length - 1] = t;
                }
            }
            for (int b = 0; b < 3; b++) {
                single.reset();
                int[] g = new int[generated[b].length];
                g[0] = argmax(m.prefill(single, 0, prompts[b]), 0, 97);
                for (int i = 1; i < g.length; i++) g[i] = argmax(m.step(single, new int[] {g[i - 1]}), 0, 97);
                assertArrayEquals(g, generated[b], "sequence " + b);
            }
            assertEquals(3 + 10, batch.length(0));
            assertEquals(11 + 6, batch.length(1));
            assertThrows(IllegalArgumentException.class, () -> m.step(batch, new int[] {1, 1}, new int[] {0, 0}, new float[2 * 97]));
        }
    }

    @Test
    void chunkedPrefillEqualsOnePrefillAndTruncateRewinds() {
        GptConfig cfg = new GptConfig(97, 40, 32, 2, 4, 0.0, 1e-5, true, true);
        int[] p = prompt(20, 97, 9);
        try (GptModel m = model(cfg, 7); KvCache c = m.newKvCache(1)) {
            float[] whole = m.prefill(c, 0, p);
            c.reset(0);
            m.prefill(c, 0, Arrays.copyOf(p, 8));
            float[] chunked = m.prefill(c, 0, Arrays.copyOfRange(p, 8, 20));
            // the chunks' matrix products have other shapes, so BLAS may sum in another order: equal to float32
            // rounding (1.3e-6 apart on an AVX2-only machine), where a wrong cache would be off by tenths
            assertArrayEquals(whole, chunked, 1e-5f);
            c.truncate(0, 8);
            float[] again = m.prefill(c, 0, Arrays.copyOfRange(p, 8, 20));
            assertArrayEquals(whole, again, 1e-5f);
            assertThrows(IllegalArgumentException.class, () -> m.prefill(c, 0, new int[21]), "past the context");
            assertThrows(IllegalArgumentException.class, () -> m.prefill(c, 0, new int[] {97}), "outside the vocabulary");
        }
    }

    @Test
    void followsTheWeightsAsTheyChange() {
        GptConfig cfg = new GptConfig(97, 40, 32, 2, 4, 0.0, 1e-5, true, true);
        int[] p = prompt(5, 97, 4);
        try (GptModel m = model(cfg, 8); KvCache c = m.newKvCache(1)) {
            float[] before = m.prefill(c, 0, p);
            m.params().get("h.1.mlp.c_fc.bias").addi(0.5);
            c.reset(0);
            float[] after = m.prefill(c, 0, p);
            assertFalse(Arrays.equals(before, after));
            assertArrayEquals(uncachedLastRow(m, p), after, (float) TOL);
        }
    }

    @Test
    void aCopiedSequenceContinuesLikeItsSource() {
        GptConfig cfg = new GptConfig(97, 40, 32, 2, 4, 0.0, 1e-5, true, true);
        int[] a = prompt(9, 97, 11), b = prompt(4, 97, 12);
        try (GptModel m = model(cfg, 6); KvCache c = m.newKvCache(3)) {
            m.prefill(c, 0, a);
            m.prefill(c, 1, b);
            m.prefill(c, 2, prompt(15, 97, 13)); // longer than the source: the copy must drop the rest
            c.copy(0, 2);
            assertEquals(9, c.length(2));
            c.copy(0, 1); // overwrites b
            float[] out = m.step(c, new int[] {0, 1, 2}, new int[] {5, 6, 5}, new float[3 * 97]);
            float[] row0 = Arrays.copyOfRange(out, 0, 97), row1 = Arrays.copyOfRange(out, 97, 194), row2 = Arrays.copyOfRange(out, 194, 291);
            assertArrayEquals(row0, row2, "the copy with the same next token gives the same logits");
            int[] a5 = Arrays.copyOf(a, 10), a6 = Arrays.copyOf(a, 10);
            a5[9] = 5;
            a6[9] = 6;
            assertArrayEquals(uncachedLastRow(m, a5), row0, (float) TOL);
            assertArrayEquals(uncachedLastRow(m, a6), row1, (float) TOL);
            assertThrows(IllegalArgumentException.class, () -> c.copy(0, 3));
        }
    }
}
