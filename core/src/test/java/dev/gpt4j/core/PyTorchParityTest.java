package dev.gpt4j.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Logits and loss against a plain PyTorch GPT-2 (core/src/test/python/make_fixtures.py) for the same weights and
 * tokens, in float32: java-tied was written by gpt4j and read by PyTorch, torch-separate was written by PyTorch
 * in HF naming (with the transformer. prefix and attn.bias buffers) and read by gpt4j. Float32 differs from
 * PyTorch's by rounding only: each logit within 1e-4 relative (absolute 1e-5 for logits under 0.1 in size).
 *
 * <p>LoRA adapters in PEFT's format, both ways (core/src/test/python/make_lora_fixtures.py): lora-torch was made in
 * Python for torch-separate, lora-java written by gpt4j for java-tied; the expected logits come from PEFT's merge rule
 * for GPT-2's Conv1D, W + transpose(B A) · scaling, applied in PyTorch. gpt4j loads each adapter and must give those
 * logits with the adapter on top, and merged.
 */
class PyTorchParityTest {
    static Path fixture(String name) throws Exception {
        return Path.of(PyTorchParityTest.class.getResource("/parity/" + name).toURI());
    }

    @ParameterizedTest
    @ValueSource(strings = {"java-tied", "torch-separate"})
    void logitsAndLossMatchPyTorch(String name) throws Exception {
        try (GptModel m = GptModel.load(fixture(name))) {
            assertEquals(name.equals("java-tied"), m.config().tiedHead());
            assertMatches(name, m, fixture(name));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora-java:java-tied", "lora-torch:torch-separate"})
    void loraAdaptersInPeftsFormatMatchPyTorch(String pair) throws Exception {
        String adapter = pair.split(":")[0], base = pair.split(":")[1];
        for (boolean merge : new boolean[] {false, true}) {
            try (GptModel m = GptModel.load(fixture(base))) {
                m.addAdapter(adapter, LoraAdapter.load(fixture(adapter), m.config()));
                if (merge) m.mergeAdapter(adapter);
                else m.setActiveAdapter(adapter);
                assertMatches(adapter + (merge ? " merged" : " on top"), m, fixture(adapter));
            }
        }
    }

    static void assertMatches(String name, GptModel m, Path dir) throws Exception {
        JsonNode exp = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
        int B = exp.get("B").asInt(), T = exp.get("T").asInt();
        int[] tokens = new ObjectMapper().convertValue(exp.get("tokens"), int[].class);
        int[] targets = new ObjectMapper().convertValue(exp.get("targets"), int[].class);
        double[] logitsRef = new ObjectMapper().convertValue(exp.get("logits"), double[].class);
        {
            m.eval();
            double loss = m.forward(tokens, targets, B, T);
            INDArray logits = m.logits(tokens, B, T);
            double maxRel = 0, maxAbs = 0, refNorm = 0, diffNorm = 0;
            for (int i = 0; i < logitsRef.length; i++) {
                double a = logits.getDouble(i / logits.columns(), i % logits.columns()), b = logitsRef[i];
                maxAbs = Math.max(maxAbs, Math.abs(a - b));
                // relative 1e-4; logits within 0.1 of zero are held to an absolute 1e-5 instead
                maxRel = Math.max(maxRel, Math.abs(a - b) / Math.max(Math.abs(b), 0.1));
                refNorm += b * b;
                diffNorm += (a - b) * (a - b);
            }
            assertTrue(maxRel < 1e-4, name + ": max relative logit error " + maxRel + " (max abs " + maxAbs + ")");
            assertTrue(Math.sqrt(diffNorm / refNorm) < 1e-5, name + ": relative L2 error " + Math.sqrt(diffNorm / refNorm));
            double lossRef = exp.get("loss").asDouble();
            assertEquals(lossRef, loss, 1e-4 * lossRef, name + " loss");
        }
    }
}
