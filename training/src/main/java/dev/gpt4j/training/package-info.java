/** Pretraining and fine-tuning: the {@link dev.gpt4j.training.Trainer}, its config, data, checkpoints and metrics. */
package dev.gpt4j.training;
