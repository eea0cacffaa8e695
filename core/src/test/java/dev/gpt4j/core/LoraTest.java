package dev.gpt4j.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * LoRA adapters: A and B gradients against central finite differences in double precision (the base frozen or not,
 * with the adapter's dropout), merged weights against the adapter on top, PEFT files both ways, and bad adapter files.
 */
class LoraTest {
    static final GptConfig CFG = new GptConfig(13, 8, 8, 2, 2, 0.0, 1e-5, true, true);
    static final int B = 2, T = 5;
    static final int[] TOKENS = {1, 5, 5, 12, 0, 3, 3, 3, 7, 1}, TARGETS = {5, 5, 12, 0, GptModel.IGNORE, 3, 3, 7, 1, 2};

    /** A double model with spread weights and an adapter whose B is not zero (a new one's is), active. */
    static GptModel withAdapter(GptConfig cfg, LoraConfig lora, DataType dtype, boolean freeze) {
        return withAdapter(cfg, lora, dtype, freeze, 0.5);
    }

    static GptModel withAdapter(GptConfig cfg, LoraConfig lora, DataType dtype, boolean freeze, double adapterStd) {
        GptModel m = GptModel.create(cfg, 7, dtype);
        spread(m.params().values(), 3, 0.3);
        LoraAdapter a = LoraAdapter.create(lora, cfg, "test", 11, dtype);
        spread(a.params().values(), 4, adapterStd);
        m.addAdapter("a", a);
        m.setActiveAdapter("a");
        if (freeze) m.freezeBase();
        return m;
    }

    static void spread(INDArray flat, long seed, double std) {
        Random rnd = new Random(seed);
        for (long i = 0; i < flat.length(); i++) flat.putScalar(i, flat.getDouble(i) + rnd.nextGaussian() * std);
    }

    static void checkAdapterGradients(GptConfig cfg, LoraConfig lora, boolean freeze) {
        try (GptModel m = withAdapter(cfg, lora, DataType.DOUBLE, freeze)) {
            m.train();
            m.setDropoutStep(3);
            java.util.function.DoubleSupplier f = () -> m.forward(TOKENS, TARGETS, null, B, T);
            f.getAsDouble();
            m.zeroGrad();
            m.backward();
            Parameters p = m.activeAdapter().params();
            Random pick = new Random(5);
            for (Parameters.Slot s : p.slots()) {
                long[] idx = new long[Math.min(12, (int) s.size())]; // a sample, with the first and last element
                for (int i = 0; i < idx.length; i++) idx[i] = i == 0 ? 0 : i == 1 ? s.size() - 1 : (long) (pick.nextDouble() * s.size());
                GradCheck.check(lora + " " + s.name(), f, p.get(s.name()), p.grad(s.name()), idx, 1e-6);
            }
            if (!freeze) { // the base's gradients are unchanged by the adapter's presence in how they are computed
                GradCheck.check("base c_fc with an adapter", f, m.params().get("h.1.mlp.c_fc.weight"), m.params().grad("h.1.mlp.c_fc.weight"),
                        new long[] {0, 7, 100, 255}, 1e-6);
            }
        }
    }

    @Test
    void adapterGradientsMatchFiniteDifferences() {
        checkAdapterGradients(CFG, LoraConfig.parse("r=2,alpha=4,targets=c_attn,c_proj,c_fc"), true);
        checkAdapterGradients(CFG, LoraConfig.parse("r=3,alpha=3,targets=attn.c_proj,mlp.c_proj,rslora"), false);
        // a frozen backward stops at the lowest adapted layer: each of these starts higher in the block
        checkAdapterGradients(CFG, LoraConfig.parse("r=2,alpha=4,targets=attn.c_proj,mlp.c_proj"), true);
        checkAdapterGradients(CFG, LoraConfig.parse("r=2,alpha=4,targets=mlp.c_fc"), true);
        checkAdapterGradients(CFG, LoraConfig.parse("r=2,alpha=4,targets=mlp.c_proj"), true);
    }

    @Test
    void adapterGradientsWithTheAdaptersDropout() {
        // the masks are drawn from (seed, step), so every forward of the check draws the same ones
        checkAdapterGradients(CFG.withDropout(0.2), LoraConfig.parse("r=2,alpha=2,dropout=0.3,targets=c_attn,mlp.c_fc"), true);
    }

    @Test
    void aFrozenBaseHasNoGradientsAndAnUntrainedAdapterChangesNothing() {
        GptConfig cfg = new GptConfig(40, 16, 16, 2, 2, 0.0, 1e-5, true, true);
        try (GptModel m = GptModel.create(cfg, 1)) {
            INDArray before = m.logits(TOKENS, B, T).dup();
            m.addAdapter("new", LoraAdapter.create(LoraConfig.parse("r=4,targets=c_attn"), cfg, "", 2));
            m.setActiveAdapter("new");
            m.freezeBase();
            assertFalse(m.params().hasGrads());
            assertEquals(0.0, before.sub(m.logits(TOKENS, B, T)).norm1Number().doubleValue(), "B starts at zero");
            // PEFT's init: A uniform in +-1/sqrt(in)
            INDArray a = m.activeAdapter().params().get("h.0.attn.c_attn.lora_A.weight");
            assertEquals(1 / Math.sqrt(16), a.amaxNumber().doubleValue(), 0.05);
            assertTrue(a.amaxNumber().doubleValue() <= 1 / Math.sqrt(16));
        }
    }

    @Test
    void mergedWeightsComputeWhatTheAdapterOnTopComputes() {
        GptConfig cfg = new GptConfig(50, 24, 32, 2, 4, 0.0, 1e-5, true, false);
        // an adapter as training leaves one: small next to the weights (the float32 sums then round alike)
        try (GptModel m = withAdapter(cfg, LoraConfig.parse("r=4,alpha=8,targets=c_attn,c_proj,c_fc"), DataType.FLOAT, false, 0.05)) {
            m.eval();
            int[] tokens = new int[24];
            for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 7) % 50;
            float[] onTop = m.logits(tokens, 1, 24).dup().data().asFloat();
            float[] cached;
            try (KvCache c = m.newKvCache(1)) {
                cached = m.prefill(c, 0, tokens);
            }
            m.mergeAdapter("a");
            assertNull(m.activeAdapter(), "a merged adapter is not applied on top as well");
            float[] merged = m.logits(tokens, 1, 24).dup().data().asFloat();
            assertClose(onTop, merged, 1e-5, "merged");
            for (int v = 0; v < 50; v++) assertEquals(onTop[23 * 50 + v], cached[v], 1e-4 * (1 + Math.abs(cached[v])), "prefill with the adapter");
            m.unmergeAdapter("a");
            m.setActiveAdapter("a");
            assertClose(onTop, m.logits(tokens, 1, 24).dup().data().asFloat(), 1e-5, "unmerged");
        }
    }

    /**
     * A decoding step's few rows take the adapter's term as matrix-vector products (and the base's, and the head's):
     * each step's logits match the full forward of the sequence so far with the adapter on top, and a row's logits in
     * a step of several are those it gets stepped alone, to the bit.
     */
    @Test
    void decodingStepsWithTheAdapterMatchTheFullForwardAndDoNotDependOnTheirBatch() {
        GptConfig cfg = new GptConfig(50, 24, 32, 2, 4, 0.0, 1e-5, true, false);
        try (GptModel m = withAdapter(cfg, LoraConfig.parse("r=4,alpha=8,targets=c_attn,c_proj,c_fc"), DataType.FLOAT, false, 0.2);
             KvCache batch = m.newKvCache(3); KvCache alone = m.newKvCache(1)) {
            m.eval();
            int V = 50;
            int[][] seqs = {{1, 2, 3}, {7, 7}, {4, 9, 11, 13, 2}};
            for (int b = 0; b < 3; b++) m.prefill(batch, b, seqs[b]);
            for (int step = 0; step < 6; step++) {
                int[] toks = {(step * 5 + 1) % V, (step * 3 + 2) % V, (step * 11 + 4) % V};
                float[] out = m.step(batch, new int[] {0, 1, 2}, toks, new float[3 * V]);
                for (int b = 0; b < 3; b++) {
                    seqs[b] = java.util.Arrays.copyOf(seqs[b], seqs[b].length + 1);
                    seqs[b][seqs[b].length - 1] = toks[b];
                    float[] full = m.logits(seqs[b], 1, seqs[b].length).getRow(seqs[b].length - 1).toFloatVector();
                    alone.reset();
                    m.prefill(alone, 0, java.util.Arrays.copyOf(seqs[b], seqs[b].length - 1));
                    float[] single = m.step(alone, new int[] {toks[b]});
                    for (int v = 0; v < V; v++) {
                        assertEquals(full[v], out[b * V + v], 1e-4 * (1 + Math.abs(full[v])), "step " + step + ", row " + b + ", logit " + v);
                        assertEquals(Float.floatToIntBits(single[v]), Float.floatToIntBits(out[b * V + v]),
                                "step " + step + ", row " + b + ", logit " + v + ": batched " + out[b * V + v] + ", alone " + single[v]);
                    }
                }
            }
            // the adapter's term is there at all (an untouched B would pass the comparisons above with no term)
            float[] with = m.logits(seqs[0], 1, seqs[0].length).dup().data().asFloat();
            m.setActiveAdapter(null);
            float[] without = m.logits(seqs[0], 1, seqs[0].length).dup().data().asFloat();
            double diff = 0;
            for (int i = 0; i < with.length; i++) diff = Math.max(diff, Math.abs(with[i] - without[i]));
            assertTrue(diff > 0.1, "the adapter should move the logits: " + diff);
        }
    }

    static void assertClose(float[] a, float[] b, double tol, String what) {
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], tol * (1 + Math.abs(a[i])), what + " logit " + i);
    }

    @Test
    void peftFilesRoundTrip(@TempDir Path dir) throws Exception {
        LoraConfig c = LoraConfig.parse("r=4,alpha=16,dropout=0.05,targets=c_attn,attn.c_proj,rslora");
        LoraAdapter a = LoraAdapter.create(c, CFG, "models/gpt4j-sql", 5);
        spread(a.params().values(), 1, 0.1);
        a.save(dir);
        var json = new ObjectMapper().readTree(dir.resolve(LoraAdapter.CONFIG).toFile());
        assertEquals("LORA", json.get("peft_type").asText());
        assertEquals("CAUSAL_LM", json.get("task_type").asText());
        assertEquals(4, json.get("r").asInt());
        assertEquals(16.0, json.get("lora_alpha").asDouble());
        assertTrue(json.get("fan_in_fan_out").asBoolean(), "GPT-2's Conv1D");
        assertTrue(json.get("use_rslora").asBoolean());
        assertEquals(List.of("c_attn", "attn.c_proj"), List.of(json.get("target_modules").get(0).asText(), json.get("target_modules").get(1).asText()));
        var st = SafeTensors.open(dir.resolve(LoraAdapter.WEIGHTS));
        assertArrayEquals(new long[] {4, 8}, st.entries().get("base_model.model.transformer.h.1.attn.c_attn.lora_A.weight").shape());
        assertArrayEquals(new long[] {24, 4}, st.entries().get("base_model.model.transformer.h.1.attn.c_attn.lora_B.weight").shape());
        assertArrayEquals(new long[] {8, 4}, st.entries().get("base_model.model.transformer.h.0.attn.c_proj.lora_B.weight").shape());
        assertEquals(8, st.entries().size(), "2 layers x 2 targets x A, B");
        LoraAdapter back = LoraAdapter.load(dir, CFG);
        assertEquals(c, back.config());
        assertEquals(8.0, back.config().scaling(), 1e-12); // rsLoRA: alpha / sqrt(r)
        assertArrayEquals(a.params().values().toFloatVector(), back.params().values().toFloatVector());
    }

    @Test
    void badAdapterFilesAreNamedAndExplained(@TempDir Path dir) throws Exception {
        LoraAdapter a = LoraAdapter.create(LoraConfig.parse("r=2,targets=c_attn,c_fc"), CFG, "", 5);
        a.save(dir);
        ObjectMapper json = new ObjectMapper();
        Path cfg = dir.resolve(LoraAdapter.CONFIG);
        ObjectNode good = (ObjectNode) json.readTree(cfg.toFile());
        Map<String, String> cases = Map.of(
                "peft_type", "not a LoRA adapter",
                "r", "at least 1",
                "target_modules", "unknown LoRA target module 'q_proj'");
        for (var e : cases.entrySet()) {
            ObjectNode bad = good.deepCopy();
            switch (e.getKey()) {
                case "peft_type" -> bad.put("peft_type", "PREFIX_TUNING");
                case "r" -> bad.put("r", 0);
                default -> bad.putArray("target_modules").add("q_proj");
            }
            json.writeValue(cfg.toFile(), bad);
            ModelFileException x = assertThrows(ModelFileException.class, () -> LoraAdapter.load(dir, CFG), e.getKey());
            assertTrue(x.getMessage().startsWith(cfg.toString()) && x.getMessage().contains(e.getValue()), x.getMessage());
        }
        json.writeValue(cfg.toFile(), good);
        // a model of another width: shapes that do not fit
        ModelFileException shape = assertThrows(ModelFileException.class, () -> LoraAdapter.load(dir, new GptConfig(13, 8, 16, 2, 2, 0, 1e-5, true, true)));
        assertTrue(shape.getMessage().contains("has shape [2, 8]") && shape.getMessage().contains("needs [2, 16]"), shape.getMessage());
        // more targets in the config than tensors in the file: a missing A or B
        ObjectNode more = good.deepCopy();
        more.putArray("target_modules").add("c_attn").add("c_fc").add("c_proj");
        json.writeValue(cfg.toFile(), more);
        ModelFileException missing = assertThrows(ModelFileException.class, () -> LoraAdapter.load(dir, CFG));
        assertTrue(missing.getMessage().contains("missing tensor base_model.model.transformer.h.0.attn.c_proj.lora_A.weight"), missing.getMessage());
        // fewer: tensors the config does not account for
        ObjectNode fewer = good.deepCopy();
        fewer.putArray("target_modules").add("c_attn");
        json.writeValue(cfg.toFile(), fewer);
        ModelFileException extra = assertThrows(ModelFileException.class, () -> LoraAdapter.load(dir, CFG));
        assertTrue(extra.getMessage().contains("does not account for"), extra.getMessage());
        Files.delete(cfg);
        assertTrue(assertThrows(ModelFileException.class, () -> LoraAdapter.load(dir, CFG)).getMessage().contains("missing"));
    }

    @Test
    void loraSettingsParseAndExplainMistakes() {
        LoraConfig c = LoraConfig.parse("r=16,alpha=16,dropout=0.05,targets=c_attn,c_proj");
        assertEquals(List.of("c_attn", "c_proj"), c.targets());
        assertEquals(List.of("attn.c_attn", "attn.c_proj", "mlp.c_proj"), c.targetedLayers(), "PEFT's suffix match: c_proj is both");
        assertEquals(1.0, c.scaling());
        assertEquals(4.0, LoraConfig.parse("r=16,alpha=16,rslora").scaling(), 1e-12);
        assertEquals(List.of("attn.c_attn"), LoraConfig.parse("r=8").targetedLayers());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LoraConfig.parse("r=0")).getMessage().contains("at least 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LoraConfig.parse("alpha=2")).getMessage().contains("no rank"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LoraConfig.parse("r=2,targets=wte")).getMessage().contains("'wte'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LoraConfig.parse("r=2,rank2=3")).getMessage().contains("'rank2'"));
        assertEquals(c, LoraConfig.parse(c.toString()));
    }
}
