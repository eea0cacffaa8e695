package dev.gpt4j.core;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TrainingSanityTest {
    static final GptConfig CFG = new GptConfig(64, 16, 32, 2, 4, 0.0, 1e-5, true, true);

    static int[][] batch(int B, int T, long seed) {
        Random r = new Random(seed);
        int[] x = new int[B * T], y = new int[B * T];
        for (int i = 0; i < x.length; i++) x[i] = r.nextInt(CFG.vocabSize());
        for (int i = 0; i < x.length; i++) y[i] = r.nextInt(CFG.vocabSize());
        return new int[][] {x, y};
    }

    @Test
    void memorisesAFixedBatch() {
        int B = 4, T = 16;
        int[][] xy = batch(B, T, 1);
        try (GptModel m = GptModel.create(CFG, 1)) {
            AdamW opt = new AdamW(m.params(), 0.0);
            double first = Double.NaN, loss = Double.NaN;
            for (int step = 0; step < 300 && !(loss < 0.05); step++) {
                loss = m.forward(xy[0], xy[1], B, T);
                if (step == 0) first = loss;
                m.zeroGrad();
                m.backward();
                opt.step(3e-3);
            }
            assertEquals(Math.log(64), first, 0.2, "starts near ln V");
            assertTrue(loss < 0.05, "loss after training " + loss);
        }
    }

    @Test
    void sameSeedSameRun() {
        int B = 2, T = 16;
        int[][] xy = batch(B, T, 2);
        double[] losses = new double[2];
        float[][] params = new float[2][];
        for (int run = 0; run < 2; run++) {
            try (GptModel m = GptModel.create(CFG.withDropout(0.1), 9)) {
                AdamW opt = new AdamW(m.params(), 0.1);
                for (int step = 0; step < 5; step++) {
                    m.setDropoutStep(step);
                    losses[run] = m.forward(xy[0], xy[1], B, T);
                    m.zeroGrad();
                    m.backward();
                    opt.step(1e-3);
                }
                params[run] = m.params().values().toFloatVector();
            }
        }
        assertEquals(losses[0], losses[1], 0.0);
        assertArrayEquals(params[0], params[1]);
    }

    /**
     * Live native memory (after GC) is the same after 60 more steps: activations, gradients and optimizer state
     * are allocated once. (ND4J may still make short-lived buffers inside an op; those are freed by GC.)
     */
    @Test
    void steadyStateStepsHoldNoMoreNativeMemory() throws Exception {
        int B = 4, T = 16;
        int[][] xy = batch(B, T, 3);
        try (GptModel m = GptModel.create(CFG.withDropout(0.1), 1)) {
            AdamW opt = new AdamW(m.params(), 0.1);
            Runnable step = () -> {
                m.forward(xy[0], xy[1], B, T);
                m.zeroGrad();
                m.backward();
                opt.clipGradNorm(1.0);
                opt.step(1e-3);
            };
            for (int i = 0; i < 10; i++) step.run();
            long before = liveNativeBytes();
            for (int i = 0; i < 60; i++) step.run();
            long grown = liveNativeBytes() - before;
            assertTrue(grown < 64 * 1024, "live native memory grew by " + grown + " bytes over 60 steps");
        }
    }

    static long liveNativeBytes() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            Pointer.deallocateReferences();
        }
        return Pointer.totalBytes();
    }
}
