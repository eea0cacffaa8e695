package dev.gpt4j.core;

import java.nio.file.Path;

/**
 * Writes the gpt4j side of the LoRA parity fixture (run by core/src/test/python/make_lora_fixtures.py): an adapter for
 * the java-tied parity model, in PEFT's format, with B moved off zero so that it changes the logits.
 */
public final class WriteParityAdapter {
    private WriteParityAdapter() {}

    public static void main(String[] args) {
        GptConfig cfg = GptModel.load(Path.of(args[0])).config();
        LoraAdapter a = LoraAdapter.create(LoraConfig.parse("r=4,alpha=8,targets=mlp.c_fc,attn.c_proj,rslora"), cfg, "java-tied", 17);
        java.util.Random r = new java.util.Random(5);
        var flat = a.params().values();
        for (long i = 0; i < flat.length(); i++) flat.putScalar(i, flat.getDouble(i) + r.nextGaussian() * 0.1);
        a.save(Path.of(args[1]));
    }
}
