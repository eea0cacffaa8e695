package dev.gpt4j.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.*;

class AdamWTest {
    /** The two ways AdamW.step runs: the fused float32 kernel, and the ND4J composition (float32 with the kernels off, and float64). */
    enum Path {
        FLOAT_KERNEL(DataType.FLOAT, true), FLOAT_ND4J(DataType.FLOAT, false), DOUBLE_ND4J(DataType.DOUBLE, false);

        final DataType type;
        final boolean kernels;

        Path(DataType type, boolean kernels) {
            this.type = type;
            this.kernels = kernels;
        }
    }

    /**
     * {@code torch.optim.AdamW} trajectories (make_fixtures.py): adamw.json with ordinary gradients, adamw-eps.json
     * with zero and tiny ones from the first step, where eps inside the square root, eps = 1e-6 or no eps would each
     * move some parameter by over 1%.
     */
    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"adamw.json, FLOAT_KERNEL", "adamw.json, FLOAT_ND4J", "adamw.json, DOUBLE_ND4J",
            "adamw-eps.json, FLOAT_KERNEL", "adamw-eps.json, FLOAT_ND4J", "adamw-eps.json, DOUBLE_ND4J"})
    void matchesTorchOptimAdamW(String fixture, Path path) throws Exception {
        JsonNode f = new ObjectMapper().readTree(getClass().getResource("/parity/" + fixture));
        ObjectMapper om = new ObjectMapper();
        INDArray p = Nd4j.createFromArray(om.convertValue(f.get("initial"), double[].class)).castTo(path.type);
        INDArray mask = Nd4j.createFromArray(om.convertValue(f.get("decay_mask"), double[].class)).castTo(path.type);
        INDArray g = p.like();
        assertEquals(1e-8, f.get("eps").asDouble());
        AdamW opt = new AdamW(p, g, mask, 0.9, 0.999, 1e-8, f.get("weight_decay").asDouble(), path.kernels ? Compute.JAVA : Compute.ND4J);
        double lr = f.get("lr").asDouble();
        {
            int steps = f.get("grads").size();
            for (int step = 0; step < steps; step++) {
                g.assign(Nd4j.createFromArray(om.convertValue(f.get("grads").get(step), double[].class)).castTo(path.type));
                opt.step(lr);
                double[] expected = om.convertValue(f.get("params_after_each_step").get(step), double[].class);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], p.getDouble(i), 1e-6 * Math.max(1, Math.abs(expected[i])), "step " + (step + 1) + " param " + i);
                }
            }
            assertEquals(steps, opt.stepCount());
        }
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
