/**
 * Generation, and nothing about SQL: a {@link dev.gpt4j.inference.Sampler} picks each token, the
 * {@link dev.gpt4j.inference.Generator} runs prompts through the model's KV cache in batches (or a beam search), and
 * a {@link dev.gpt4j.inference.TokenConstraint} may narrow the tokens allowed at each step.
 */
package dev.gpt4j.inference;
