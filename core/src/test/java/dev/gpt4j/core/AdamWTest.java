package dev.gpt4j.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.*;

class AdamWTest {
    @Test
    void matchesTorchOptimAdamW() throws Exception {
        JsonNode f = new ObjectMapper().readTree(getClass().getResource("/parity/adamw.json"));
        ObjectMapper om = new ObjectMapper();
        INDArray p = Nd4j.createFromArray(om.convertValue(f.get("initial"), double[].class)).castTo(DataType.FLOAT);
        INDArray mask = Nd4j.createFromArray(om.convertValue(f.get("decay_mask"), double[].class)).castTo(DataType.FLOAT);
        INDArray g = p.like();
        AdamW opt = new AdamW(p, g, mask, 0.9, 0.999, 1e-8, f.get("weight_decay").asDouble());
        double lr = f.get("lr").asDouble();
        for (int step = 0; step < f.get("grads").size(); step++) {
            g.assign(Nd4j.createFromArray(om.convertValue(f.get("grads").get(step), double[].class)).castTo(DataType.FLOAT));
            opt.step(lr);
            double[] expected = om.convertValue(f.get("params_after_each_step").get(step), double[].class);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], p.getDouble(i), 1e-6 * Math.max(1, Math.abs(expected[i])), "step " + (step + 1) + " param " + i);
            }
        }
        assertEquals(5, opt.stepCount());
    }

    @Test
    void decayMaskFollowsNanoGptRule() {
        Parameters ps = new Parameters(new GptConfig(10, 4, 8, 1, 2, 0, 1e-5, true, true), DataType.FLOAT);
        INDArray mask = ps.decayMask();
        for (Parameters.Slot s : ps.slots()) {
            double expected = s.shape().length == 2 ? 1 : 0;
            assertEquals(expected * s.size(), mask.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(s.offset(), s.offset() + s.size()))
                    .sumNumber().doubleValue(), 0, s.name());
        }
    }

    @Test
    void clipping() {
        INDArray g = Nd4j.createFromArray(3f, 4f);
        assertEquals(5, AdamW.clipGradNorm(g, 1.0), 1e-6);
        assertEquals(1, g.norm2Number().doubleValue(), 1e-5);
        assertEquals(1, AdamW.clipGradNorm(g, 2.0), 1e-5);
        assertEquals(1, g.norm2Number().doubleValue(), 1e-5, "under the limit: unchanged");
    }
}
