package dev.gpt4j.training;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.LoraAdapter;
import dev.gpt4j.data.Corpora;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.TextToSqlExample;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A LoRA fine-tune over a frozen base: the loss falls, only the adapter changes (the base on disk and in the model is
 * untouched), the run's folders are PEFT adapter folders, and a stopped run resumed from its checkpoint ends with the
 * same adapter, bit for bit.
 */
class LoraTrainingTest {
    static Path init(Path dir) {
        List<TextToSqlExample> pairs = Corpora.fineTuning(TrainerTest.DATA).stream().filter(e -> e.source().equals("wikisql")).limit(2000).toList();
        List<String> texts = new ArrayList<>();
        for (TextToSqlExample e : pairs) texts.add(e.schema().compact() + " " + e.question() + " " + e.sql());
        BpeTokenizer tok = new BpeTrainer(800, PromptFormat.SPECIAL_TOKENS).train(texts);
        Path init = dir.resolve("init");
        try (GptModel m = GptModel.create(new GptConfig(tok.vocabSize(), 128, 48, 2, 4, 0.0, 1e-5, true, true), 3)) {
            // weights of std 0.1 rather than GPT-2's 0.02: a frozen random base whose residual stream the adapter can move
            m.params().values().muli(5);
            m.save(init);
        }
        tok.save(init);
        return init;
    }

    static Map<String, Object> config(Path init, Path out, int steps) {
        Map<String, Object> cfg = new HashMap<>();
        cfg.put("mode", "finetune");
        cfg.put("init", init.toString());
        cfg.put("out", out.toString());
        cfg.put("datasets", "wikisql");
        cfg.put("max_examples", 16);
        cfg.put("steps", steps);
        cfg.put("batch_size", 4);
        cfg.put("lr", 3e-2);
        cfg.put("min_lr", 1e-3);
        cfg.put("warmup_steps", 5);
        cfg.put("eval_every", 20);
        cfg.put("eval_batches", 1);
        cfg.put("checkpoint_every", 10);
        cfg.put("log_every", 5);
        cfg.put("lora", "r=4,alpha=8,dropout=0.1,targets=c_attn,c_proj,c_fc");
        return cfg;
    }

    @Test
    void anAdapterTrainsOverAFrozenBaseAndResumesExactly(@TempDir Path dir) throws Exception {
        Path init = init(dir);
        byte[] base = Files.readAllBytes(init.resolve("model.safetensors"));
        Path one = dir.resolve("one");
        Trainer.Result r = new Trainer(TrainConfig.of(config(init, one, 40)), TrainerTest.QUIET).run(false);
        List<String> rows = TrainerTest.curve(one.resolve("metrics.jsonl"));
        double first = Double.parseDouble(rows.get(0).split(" ")[1]);
        assertTrue(r.lastLoss() < first * 0.9, "loss " + first + " -> " + r.lastLoss());
        assertEquals(one.resolve("adapter"), r.modelDir());
        assertTrue(Files.isRegularFile(one.resolve("adapter/adapter_config.json")));
        assertTrue(Files.isRegularFile(one.resolve("checkpoints/step-000040/adapter_model.safetensors")), "each checkpoint is a PEFT folder");
        assertFalse(Files.exists(one.resolve("adapter/model.safetensors")), "no copy of the base");
        assertArrayEquals(base, Files.readAllBytes(init.resolve("model.safetensors")), "the base on disk");
        GptConfig cfg;
        try (GptModel m = GptModel.load(init)) {
            cfg = m.config();
        }
        float[] adapter = LoraAdapter.load(r.modelDir(), cfg).params().values().toFloatVector();
        // B started at zero: training moved it
        assertTrue(LoraAdapter.load(r.modelDir(), cfg).params().get("h.1.attn.c_proj.lora_B.weight").amaxNumber().doubleValue() > 0);

        // stopped at 23 (after the checkpoint at 20), resumed: the same adapter, bit for bit
        Path two = dir.resolve("two");
        new Trainer(TrainConfig.of(config(init, two, 40)), TrainerTest.QUIET).stopAfter(23).run(false);
        Trainer.Result resumed = new Trainer(TrainConfig.of(config(init, two, 40)), TrainerTest.QUIET).run(true);
        assertArrayEquals(adapter, LoraAdapter.load(resumed.modelDir(), cfg).params().values().toFloatVector());
        assertEquals(rows, TrainerTest.curve(two.resolve("metrics.jsonl")));
    }

    @Test
    void loraSettingsAreCheckedBeforeTraining() {
        Map<String, Object> cfg = config(Path.of("init"), Path.of("out"), 10);
        cfg.put("lora", "r=0");
        var e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.of(cfg));
        assertTrue(e.getMessage().contains("'lora'") && e.getMessage().contains("at least 1"), e.getMessage());
        cfg.put("lora", "r=4");
        cfg.put("mode", "pretrain");
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.of(cfg));
        assertTrue(e.getMessage().contains("pretrain"), e.getMessage());
    }
}
