package dev.gpt4j.core;

import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.core.quant.QuantizedMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A model whose linear weights are stored packed (F16, Q8_0, Q4_0, NF4): it computes what a float32 model with the
 * dequantized weights computes, on both paths, through a KV cache too; it saves and loads bit for bit; a LoRA adapter
 * trains over it with the gradients it would get over the dequantized weights (QLoRA).
 */
class PackedWeightsTest {
    static final GptConfig CFG = new GptConfig(90, 32, 64, 2, 2, 0.0, 1e-5, true, true);
    static final int[] TOKENS = new int[32];

    static {
        for (int i = 0; i < TOKENS.length; i++) TOKENS[i] = (i * 37 + 5) % 90;
    }

    static GptModel model(Compute compute) {
        GptModel m = GptModel.create(CFG, 3, DataType.FLOAT, compute);
        m.params().values().muli(4); // logits that are not flat
        return m.eval();
    }

    /** A float32 model whose linear weights are exactly what {@code packed}'s packed weights decode to. */
    static GptModel dequantized(GptModel packed, Compute compute) {
        GptModel f = model(compute);
        for (Parameters.Slot s : f.params().slots()) {
            QuantizedMatrix q = packed.packedWeights().get(s.name());
            if (q != null) f.params().get(s.name()).assign(Nd4j.createFromArray(q.dequantize()).reshape(q.rows(), q.cols()).transpose());
            else f.params().get(s.name()).assign(packed.params().get(s.name()));
        }
        return f;
    }

    static float[] logits(GptModel m) {
        return m.logits(TOKENS, 1, TOKENS.length).dup().data().asFloat();
    }

    @Test
    void aPackedModelComputesWhatItsDequantizedWeightsCompute() {
        for (QuantType type : QuantType.values()) {
            for (Compute compute : Compute.values()) {
                try (GptModel p = model(compute)) {
                    long before = p.params().size();
                    p.storeWeightsAs(type, type == QuantType.NF4);
                    assertEquals(before - 2L * 12 * 64 * 64, p.params().size(), "the linear weights left the float buffer");
                    assertEquals(8, p.packedWeights().size());
                    try (GptModel f = dequantized(p, compute)) {
                        float[] a = logits(p), b = logits(f);
                        for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-4 * (1 + Math.abs(b[i])), type + " " + compute + " logit " + i);
                        // through the KV cache: the prompt, then one step (with the float activations, as the
                        // dequantized model: q8ActivationsAtInference checks the default for Q8_0 and Q4_0)
                        p.setQ8Activations(false);
                        try (KvCache c = p.newKvCache(1)) {
                            p.prefill(c, 0, java.util.Arrays.copyOf(TOKENS, 31));
                            float[] step = p.step(c, new int[] {TOKENS[31]});
                            for (int v = 0; v < 90; v++) assertEquals(b[31 * 90 + v], step[v], 2e-4 * (1 + Math.abs(b[31 * 90 + v])), type + " cached " + v);
                        }
                    }
                }
            }
        }
    }

    @Test
    void packedModelsSaveAndLoadBitForBit(@TempDir Path dir) {
        for (QuantType type : QuantType.values()) {
            for (boolean dq : type == QuantType.NF4 ? new boolean[] {false, true} : new boolean[] {false}) {
                Path d = dir.resolve(type + "-" + dq);
                try (GptModel p = model(Compute.JAVA)) {
                    p.storeWeightsAs(type, dq);
                    float[] want = logits(p);
                    p.save(d);
                    try (GptModel back = GptModel.load(d)) {
                        back.eval();
                        if (type == QuantType.F16) {
                            // written as a plain HF F16 tensor, it loads to float32: the same values
                            assertEquals(0, back.packedWeights().size());
                            QuantizedMatrix q = p.packedWeights().get("h.1.mlp.c_fc.weight");
                            float[] w = back.params().get("h.1.mlp.c_fc.weight").transpose().dup('c').data().asFloat();
                            assertArrayEquals(q.dequantize(), w);
                        } else {
                            assertEquals(8, back.packedWeights().size(), type.toString());
                            assertArrayEquals(want, logits(back), type + (dq ? " double-quantized" : ""));
                        }
                    }
                }
            }
        }
    }

    /**
     * loadFrozen: no gradient buffer, and with a format the linear weights packed as read: the same packed bits, and
     * so the same logits and adapter gradients, as a plain load followed by storeWeightsAs.
     */
    @Test
    void aFrozenLoadPacksAsItReadsAndHoldsNoGradients(@TempDir Path dir) {
        try (GptModel p = model(Compute.JAVA)) {
            p.save(dir.resolve("f32"));
        }
        Path d = dir.resolve("f32");
        try (GptModel frozen = GptModel.loadFrozen(d, null); GptModel plain = GptModel.load(d)) {
            assertFalse(frozen.params().hasGrads());
            assertTrue(frozen.baseFrozen());
            assertTrue(plain.params().hasGrads());
            assertArrayEquals(logits(plain.eval()), logits(frozen.eval()));
        }
        for (QuantType type : QuantType.values()) {
            try (GptModel read = GptModel.loadFrozen(d, type); GptModel after = GptModel.load(d)) {
                after.freezeBase();
                after.storeWeightsAs(type, type == QuantType.NF4);
                assertEquals(8, read.packedWeights().size(), type.toString());
                assertEquals(after.params().size(), read.params().size(), type + ": the float buffer holds the rest only");
                for (String name : after.packedWeights().keySet()) {
                    assertArrayEquals(after.packedWeights().get(name).dequantize(), read.packedWeights().get(name).dequantize(), type + " " + name);
                }
                assertArrayEquals(logits(after.eval()), logits(read.eval()), type.toString());
                // QLoRA over either: the same adapter gradients
                float[][] g = new float[2][];
                GptModel[] both = {after, read};
                for (int k = 0; k < 2; k++) {
                    LoraAdapter a = LoraAdapter.create(LoraConfig.parse("r=2,alpha=4,targets=c_attn,mlp.c_proj"), CFG, "", 4);
                    LoraTest.spread(a.params().values(), 3, 0.05);
                    both[k].addAdapter("q", a);
                    both[k].setActiveAdapter("q");
                    both[k].train();
                    both[k].forward(TOKENS, TOKENS, 1, TOKENS.length);
                    both[k].zeroGrad();
                    both[k].backward();
                    g[k] = a.params().grads().dup().data().asFloat();
                }
                assertArrayEquals(g[0], g[1], type + " adapter gradients");
            }
        }
    }

    /** logits of the last of TOKENS through the KV cache: a prompt of 20, then the rest one token at a time. */
    static float[] cachedLogits(GptModel m) {
        try (KvCache c = m.newKvCache(1)) {
            m.prefill(c, 0, java.util.Arrays.copyOf(TOKENS, 20));
            float[] last = null;
            for (int i = 20; i < TOKENS.length; i++) last = m.step(c, new int[] {TOKENS[i]});
            return last;
        }
    }

    /**
     * Inference with Q8_0 and Q4_0 weights quantizes the layers' inputs to Q8_0 by default (llama.cpp's arithmetic):
     * the Java path (integer block products) and the ND4J path (the quantized activations' values through a float
     * gemm) agree; the float-activation product stays available and differs by the activations' rounding; a prompt's
     * prefill and the decode steps that follow compute the same; the uncached forward (training, loss, logits) and the
     * other formats are not affected.
     */
    @Test
    void q8ActivationsAtInference() {
        assertTrue(Compute.Q8_ACTIVATIONS, "the default (no -Dgpt4j.quant.activations=f32 in the test JVM)");
        for (QuantType type : QuantType.values()) {
            boolean q8 = type == QuantType.Q8_0 || type == QuantType.Q4_0;
            try (GptModel j = model(Compute.JAVA); GptModel n = model(Compute.ND4J)) {
                j.storeWeightsAs(type, false);
                n.storeWeightsAs(type, false);
                assertTrue(j.q8Activations() && n.q8Activations(), "on by default");
                float[] uncached = logits(j), onJ = cachedLogits(j), onN = cachedLogits(n);
                j.setQ8Activations(false);
                float[] offJ = cachedLogits(j);
                assertArrayEquals(uncached, logits(j), type + ": the uncached forward does not depend on the setting");
                double diff = 0, max = 0;
                for (int v = 0; v < onJ.length; v++) {
                    assertEquals(onN[v], onJ[v], 2e-4 * (1 + Math.abs(onN[v])), type + ": Java and ND4J paths, logit " + v);
                    diff = Math.max(diff, Math.abs(onJ[v] - offJ[v]));
                    max = Math.max(max, Math.abs(offJ[v]));
                }
                if (q8) assertTrue(diff > 1e-3 * max, type + ": the activations were not quantized (logits differ by " + diff + ")");
                else assertEquals(0.0, diff, type + ": F16 and NF4 take the float activations either way");
                // the step's logits equal the last row of one prefill of the whole sequence
                j.setQ8Activations(true);
                try (KvCache c = j.newKvCache(1)) {
                    float[] whole = j.prefill(c, 0, TOKENS);
                    for (int v = 0; v < whole.length; v++) assertEquals(whole[v], onJ[v], 1e-5 * (1 + Math.abs(whole[v])), type + ": prefill against steps, logit " + v);
                }
            }
        }
    }

    @Test
    void qloraGradientsAreLoraGradientsOverTheDequantizedBase() {
        LoraConfig lc = LoraConfig.parse("r=4,alpha=8,targets=c_attn,c_proj,c_fc");
        int[] targets = new int[TOKENS.length];
        for (int i = 0; i < targets.length; i++) targets[i] = (TOKENS[i] * 3 + 1) % 90;
        float[][] grads = new float[2][];
        try (GptModel p = model(Compute.JAVA)) {
            p.storeWeightsAs(QuantType.NF4, true);
            try (GptModel f = dequantized(p, Compute.JAVA)) {
                GptModel[] both = {p, f};
                for (int k = 0; k < 2; k++) {
                    GptModel m = both[k];
                    LoraAdapter a = LoraAdapter.create(lc, CFG, "", 9);
                    LoraTest.spread(a.params().values(), 2, 0.05);
                    m.addAdapter("q", a);
                    m.setActiveAdapter("q");
                    m.freezeBase();
                    m.train();
                    m.forward(TOKENS, targets, 1, TOKENS.length);
                    m.zeroGrad();
                    m.backward();
                    grads[k] = a.params().grads().dup().data().asFloat();
                }
            }
        }
        double max = 0, diff = 0;
        for (int i = 0; i < grads[0].length; i++) {
            max = Math.max(max, Math.abs(grads[1][i]));
            diff = Math.max(diff, Math.abs(grads[0][i] - grads[1][i]));
        }
        assertTrue(max > 0 && diff <= 1e-4 * max, "QLoRA gradient differs by " + diff + " (largest " + max + ")");
    }

    @Test
    void anAdapterMergesIntoAnF16BaseAndNotIntoAQuantizedOne() {
        LoraConfig lc = LoraConfig.parse("r=2,alpha=2,targets=c_attn");
        try (GptModel p = model(Compute.JAVA)) {
            p.storeWeightsAs(QuantType.F16, false);
            LoraAdapter a = LoraAdapter.create(lc, CFG, "", 1);
            LoraTest.spread(a.params().values(), 3, 0.02);
            p.addAdapter("a", a);
            p.setActiveAdapter("a");
            float[] onTop = logits(p);
            QuantizedMatrix before = p.packedWeights().get("h.0.attn.c_attn.weight");
            p.mergeAdapter("a");
            // W [out, in] += s B A, rounded to half precision again
            INDArray delta = a.params().get("h.0.attn.c_attn.lora_B.weight").mmul(a.params().get("h.0.attn.c_attn.lora_A.weight"));
            float[] want = Nd4j.createFromArray(before.dequantize()).reshape(before.rows(), before.cols()).add(delta).data().asFloat();
            want = QuantizedMatrix.quantize(QuantType.F16, want, before.rows(), before.cols()).dequantize();
            assertArrayEquals(want, p.packedWeights().get("h.0.attn.c_attn.weight").dequantize());
            // the logits move only by the half-precision rounding of the merged weights (the exact check is the one above)
            float[] merged = logits(p);
            double mean = 0;
            for (int i = 0; i < onTop.length; i++) mean += Math.abs(onTop[i] - merged[i]) / onTop.length;
            assertTrue(mean < 5e-3, "merged logits differ by " + mean + " on average");
        }
        try (GptModel q = model(Compute.JAVA)) {
            q.storeWeightsAs(QuantType.Q8_0, false);
            q.addAdapter("a", LoraAdapter.create(lc, CFG, "", 1));
            var e = assertThrows(IllegalStateException.class, () -> q.mergeAdapter("a"));
            assertTrue(e.getMessage().contains("q8_0"), e.getMessage());
        }
    }

    @Test
    void aPackedFileWithABadFormatIsNamed(@TempDir Path dir) throws Exception {
        try (GptModel p = model(Compute.JAVA)) {
            p.storeWeightsAs(QuantType.Q8_0, false);
            p.save(dir);
        }
        // rewrite the metadata to name a format that does not exist
        Path f = dir.resolve(ModelFiles.WEIGHTS);
        byte[] all = java.nio.file.Files.readAllBytes(f);
        String text = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1).replace("q8_0", "q9_9");
        java.nio.file.Files.write(f, text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        var e = assertThrows(ModelFileException.class, () -> GptModel.load(dir));
        assertTrue(e.getMessage().contains("q9_9") && e.getMessage().contains(f.toString()), e.getMessage());
    }
}
