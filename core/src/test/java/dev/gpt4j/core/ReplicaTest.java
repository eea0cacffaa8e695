package dev.gpt4j.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Replicas of a model for serving threads ({@link GptModel#replica}): a replica's logits are the original's to the bit,
 * alone and while the original decodes on another thread at the same moment; it shares the weights and adapters (it
 * does not copy them); it refuses what would change them; closing it leaves the original whole.
 */
class ReplicaTest {
    /**
     * A vocabulary (832) and an MLP (4 x 144) that are whole blocks of 64 rows past 448, but not an even number of
     * blocks: a lone forward splits its head and c_fc over the pool, at a block boundary, and one beside another
     * forward does not; they must agree.
     */
    static final GptConfig CFG = new GptConfig(832, 64, 144, 2, 4, 0.0, 1e-5, true, true);
    /** Lengths that are not whole blocks (701, 4 x 117): OpenBLAS's bits change when such a product is split, so none is. */
    static final GptConfig ODD = new GptConfig(701, 64, 117, 2, 3, 0.0, 1e-5, true, true);

    static GptModel model() {
        return model(CFG);
    }

    static GptModel model(GptConfig cfg) {
        GptModel m = LoraTest.withAdapter(cfg, LoraConfig.parse("r=4,alpha=8,targets=c_attn,c_proj,c_fc,mlp.c_proj"), DataType.FLOAT, false, 0.2);
        m.eval();
        return m;
    }

    /** Every logit of a prefill per sequence (prompts of 3 to 20 tokens: both sides of the 16-row switch), then 12 steps of 1-3 rows. */
    static float[] run(GptModel m) {
        int V = m.config().vocabSize();
        List<float[]> out = new ArrayList<>();
        try (KvCache c = m.newKvCache(3)) {
            for (int s = 0; s < 3; s++) {
                int[] p = new int[3 + 8 * s + (s == 2 ? 1 : 0)];
                for (int i = 0; i < p.length; i++) p[i] = (i * 37 + s * 11 + 5) % V;
                out.add(m.prefill(c, s, p));
            }
            for (int step = 0; step < 12; step++) {
                int n = 1 + step % 3;
                int[] seqs = new int[n], toks = new int[n];
                for (int i = 0; i < n; i++) {
                    seqs[i] = i;
                    toks[i] = (step * 53 + i * 17 + 1) % V;
                }
                out.add(m.step(c, seqs, toks, new float[n * V]).clone());
            }
        }
        int len = out.stream().mapToInt(a -> a.length).sum(), at = 0;
        float[] all = new float[len];
        for (float[] a : out) {
            System.arraycopy(a, 0, all, at, a.length);
            at += a.length;
        }
        return all;
    }

    static void assertSameBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) fail(what + ": logit " + i + " is " + got[i] + ", not " + want[i]);
        }
    }

    /** {@link #run} while another cached forward counts as running: the kernels keep to this thread. */
    static float[] runCrowded(GptModel m) {
        Kernels.forwardStarted();
        try {
            return run(m);
        } finally {
            Kernels.forwardEnded();
        }
    }

    @Test
    void aReplicaGivesTheOriginalsLogitsToTheBitAloneBesideAnotherForwardAndWhileTheOriginalRuns() throws Exception {
        for (GptConfig cfg : List.of(CFG, ODD)) {
            try (GptModel m = model(cfg); GptModel r = m.replica()) {
                assertTrue(r.isReplica());
                float[] want = run(m);
                assertSameBits(want, runCrowded(m), cfg + ": the original beside another forward");
                assertSameBits(want, run(r), cfg + ": the replica alone");
                ExecutorService two = Executors.newFixedThreadPool(2);
                try {
                    for (int round = 0; round < 4; round++) {
                        Future<float[]> a = two.submit(() -> run(m)), b = two.submit(() -> run(r));
                        float[] fromOriginal = a.get(), fromReplica = b.get(); // both done before a failure closes the models
                        assertSameBits(want, fromOriginal, cfg + ": the original while the replica runs, round " + round);
                        assertSameBits(want, fromReplica, cfg + ": the replica while the original runs, round " + round);
                    }
                } finally {
                    two.shutdown();
                    assertTrue(two.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS));
                }
            }
        }
    }

    @Test
    void aReplicaSharesTheWeightsAndTheAdaptersAndSwitchesAdaptersOnItsOwn() {
        try (GptModel m = model(); GptModel r = m.replica()) {
            assertSame(m.params(), r.params(), "the weights are shared, not copied");
            assertSame(m.activeAdapter(), r.activeAdapter(), "the same adapter object, active in both");
            float[] with = run(r);
            r.setActiveAdapter(null); // the replica's own choice: the original keeps its adapter
            assertSame(m.adapters().get("a"), m.activeAdapter());
            float[] without = run(r);
            assertNotEquals(Arrays.hashCode(with), Arrays.hashCode(without), "switching the replica's adapter off changes its logits");
            assertSameBits(with, run(m), "the original still answers with its adapter");
            r.setActiveAdapter("a");
            assertSameBits(with, run(r), "the adapter back on");
        }
    }

    @Test
    void aReplicaRefusesToChangeWhatItSharesAndClosingItLeavesTheOriginalWhole() {
        try (GptModel m = model()) {
            GptModel r = m.replica();
            float[] want = run(m); // after the first replica: OpenBLAS's threads can change a small model's last bits
            for (Runnable change : List.<Runnable>of(r::train, r::zeroGrad, r::backward, () -> r.mergeAdapter("a"), () -> r.unmergeAdapter("a"),
                    () -> r.removeAdapter("a"), r::freezeBase, () -> r.addAdapter("b", m.activeAdapter()),
                    () -> r.storeWeightsAs(dev.gpt4j.core.quant.QuantType.Q8_0, false))) {
                IllegalStateException e = assertThrows(IllegalStateException.class, change::run);
                assertTrue(e.getMessage().startsWith("a replica cannot"), e.getMessage());
            }
            GptModel again = r.replica(); // a replica of a replica is one of the original
            assertSame(m.params(), again.params());
            again.close();
            r.close();
            assertSameBits(want, run(m), "the original after its replicas closed");
            assertFalse(m.isReplica());
        }
    }
}
