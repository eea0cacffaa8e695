package dev.gpt4j.cli;

import dev.gpt4j.training.TrainConfig;
import dev.gpt4j.training.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code gpt4j pretrain} and {@code gpt4j finetune}: the same trainer, in two modes. */
final class TrainCommands {
    private TrainCommands() {}

    abstract static class Base implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--config", paramLabel = "FILE",
                description = "A training config, JSON or YAML (snake_case keys; see README). Keys not given take their defaults.")
        Path config;

        @Option(names = "--out", paramLabel = "DIR", description = "Output folder: checkpoints/, best/, model/, metrics.jsonl, metrics.png, train-config.json.")
        String out;

        @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps in all (config key steps).")
        Integer steps;

        @Option(names = "--preset", paramLabel = "NAME", description = "Model size: tiny, small or medium (config key preset).")
        String preset;

        @Option(names = "--set", paramLabel = "KEY=VALUE",
                description = "Overrides any config key, e.g. --set lr=3e-4 --set batch_size=16. Repeatable.")
        Map<String, String> set = new LinkedHashMap<>();

        @Option(names = "--resume",
                description = "Continue the run in --out from its newest checkpoint (with that run's train-config.json unless --config is given). "
                        + "The result is the same, bit for bit, as a run never stopped.")
        boolean resume;

        abstract String mode();

        Map<String, String> modeOptions() {
            return Map.of();
        }

        @Override
        public Integer call() {
            Map<String, Object> values;
            if (config != null) values = TrainConfig.read(config);
            else if (resume && out != null && Trainer.previousConfig(Path.of(out)).isPresent()) values = Trainer.previousConfig(Path.of(out)).get();
            else values = TrainConfig.defaults();
            values.put("mode", mode());
            if (out != null) values.put("out", out);
            if (steps != null) values.put("steps", steps);
            if (preset != null) values.put("preset", preset);
            values.putAll(modeOptions());
            values.putAll(set);
            TrainConfig cfg = TrainConfig.of(values);
            PrintStream log = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
            new Trainer(cfg, log).run(resume);
            return 0;
        }
    }

    @Command(name = "pretrain", mixinStandardHelpOptions = true,
            description = {"Pretrains a GPT by next-token prediction (Raschka ch. 5) on the-verdict and the WikiSQL/Spider training text,",
                    "or on --set corpus=FILE|DIR. Learns a BPE vocabulary first unless --set tokenizer=DIR is given.",
                    "Example: gpt4j pretrain --preset small --steps 2000 --out runs/pretrain-small"})
    static final class Pretrain extends Base {
        @Override
        String mode() {
            return "pretrain";
        }
    }

    @Command(name = "finetune", mixinStandardHelpOptions = true,
            description = {"Fine-tunes a pretrained model for text-to-SQL on WikiSQL and Spider train (loss on the SQL tokens only),",
                    "scoring a fixed dev sample every --set accuracy_every=N steps.",
                    "Example: gpt4j finetune --init runs/pretrain-small/model --steps 3000 --out runs/sql-small",
                    "         gpt4j finetune --init models/gpt4j-sql --lora r=16,alpha=16,dropout=0.05,targets=c_attn,attn.c_proj --out runs/lora"})
    static final class Finetune extends Base {
        @Option(names = "--init", paramLabel = "DIR", description = "The pretrained model folder to start from (config key init).")
        String init;

        @Option(names = "--lora", paramLabel = "SETTINGS", description = {"Train a LoRA adapter over the frozen model instead of every weight "
                + "(config key lora), e.g. r=16,alpha=16,dropout=0.05,targets=c_attn,attn.c_proj (targets as PEFT's target_modules: "
                + "c_proj means both projections; add rslora for alpha/sqrt(r)). Writes DIR/adapter/, a PEFT adapter folder."})
        String lora;

        @Option(names = "--base-dtype", paramLabel = "TYPE", description = "How the frozen base's linear weights are stored under --lora: f32, "
                + "f16, q8_0, q4_0 or nf4 (QLoRA; config key base_dtype).")
        String baseDtype;

        @Override
        String mode() {
            return "finetune";
        }

        @Override
        Map<String, String> modeOptions() {
            Map<String, String> m = new LinkedHashMap<>();
            if (init != null) m.put("init", init);
            if (lora != null) m.put("lora", lora);
            if (baseDtype != null) m.put("base_dtype", baseDtype);
            return m;
        }
    }
}
