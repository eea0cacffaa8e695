package dev.gpt4j.core;

import java.nio.file.Path;

/** Writes the gpt4j side of the PyTorch parity fixture (run by core/src/test/python/make_fixtures.py). */
public final class WriteParityModel {
    private WriteParityModel() {}

    public static void main(String[] args) {
        GptConfig cfg = new GptConfig(96, 16, 32, 2, 4, 0.0, 1e-5, true, true);
        try (GptModel m = GptModel.create(cfg, 123)) {
            // GPT-2's 0.02 init makes near-uniform logits; widen the weights so that the comparison has teeth
            java.util.Random r = new java.util.Random(9);
            var flat = m.params().values();
            for (long i = 0; i < flat.length(); i++) flat.putScalar(i, flat.getDouble(i) + r.nextGaussian() * 0.15);
            m.save(Path.of(args[0]));
        }
    }
}
