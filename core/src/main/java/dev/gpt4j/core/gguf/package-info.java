/**
 * GGUF files, llama.cpp's model format, both ways, for GPT-2-family models (llama.cpp's {@code gpt2} architecture).
 * This is the section for ARCHITECTURE.md ("GGUF and llama.cpp").
 *
 * <h2>Pieces</h2>
 * <table>
 * <caption>who does what</caption>
 * <tr><th>class</th><th>does</th></tr>
 * <tr><td>{@link dev.gpt4j.core.gguf.GgufFile}</td><td>reads the container (GGUF v3, and v2): header, key-value pairs,
 *     tensor infos, each tensor's bytes as a slice of a memory map. Every count, length, type, dimension and offset is
 *     checked against the file's size before anything sized by the file is allocated; a problem is one
 *     {@link dev.gpt4j.core.ModelFileException} naming the file and what is wrong.</td></tr>
 * <tr><td>{@link dev.gpt4j.core.gguf.GgufWriter}</td><td>writes the container: keys in order, tensors in order, each
 *     tensor's data at the padded sum of the ones before (what llama.cpp's reader insists on); atomically.</td></tr>
 * <tr><td>{@link dev.gpt4j.core.gguf.GgmlType}, {@link dev.gpt4j.core.gguf.GgmlDecoder}</td><td>ggml's tensor types and
 *     their block sizes; a tensor's values as floats: F32, F16, Q8_0, Q4_0 (through {@code core.quant}'s
 *     {@code QuantizedMatrix}, the same blocks gpt4j computes with) and Q6_K (read only).</td></tr>
 * <tr><td>{@link dev.gpt4j.core.gguf.Gpt2Gguf}</td><td>the mapping, and nothing else: GPT-2/HF tensor names to llama.cpp's
 *     ({@code wte} ↔ {@code token_embd}, {@code h.N.attn.c_attn} ↔ {@code blk.N.attn_qkv}, ...), which weights are
 *     transposed (GPT-2's Conv1D weights are [in, out]; ggml wants [out, in] rows, {@code ne = {in, out}}), the
 *     {@code gpt2.*} keys to and from {@code GptConfig}, the tokenizer keys to and from {@code BpeTokenizer} (special
 *     tokens CONTROL, padding {@code [PAD<id>]} UNUSED), and the type each tensor is written in.</td></tr>
 * <tr><td>{@code dev.gpt4j.core.GgufModelFiles}</td><td>a {@code GptModel} and its tokenizer to and from one file: what
 *     {@code GptModel.load}, {@code TextToSql.load} and every {@code --model} option call for a {@code .gguf}, and
 *     {@code gpt4j convert --format gguf} calls to write one.</td></tr>
 * </table>
 *
 * <h2>Reading a model</h2>
 * The architecture must be {@code gpt2}; the config comes from the {@code gpt2.*} keys (feed-forward 4C, as many
 * key/value heads as heads), the vocabulary size from the token list (it must equal {@code token_embd}'s rows, as
 * llama.cpp requires; a converter's padding tokens are part of it). The head is tied when {@code output.weight} is
 * absent (llama.cpp then uses {@code token_embd} too) or byte-identical to {@code token_embd}. Every tensor of that
 * config must be there with llama.cpp's dimensions and a readable type, and no other; this is checked before the model
 * is allocated, and a Conv1D weight written untransposed is named as such. Then: the four linear weights of each block
 * stored as F16, Q8_0 or Q4_0 become packed {@code QuantizedMatrix}es from the file's blocks as they are (gpt4j's
 * products read them directly); F32 linear weights, embeddings, LayerNorms, biases and an untied head become float32
 * parameters (F16/Q8_0/Q4_0/Q6_K dequantized exactly as ggml does, Conv1D weights transposed back). The tokenizer is
 * the file's: GPT-2's byte-level BPE with the merges in rank order; CONTROL, USER_DEFINED, UNKNOWN and UNUSED tokens
 * become special tokens.
 *
 * <h2>Writing a model</h2>
 * <table>
 * <caption>tensor types per file type ({@code --dtype})</caption>
 * <tr><th>tensors</th><th>f32</th><th>f16</th><th>q8_0</th><th>q4_0</th></tr>
 * <tr><td>linear weights (attn_qkv, attn_output, ffn_up, ffn_down)</td><td>F32</td><td>F16</td><td>Q8_0</td><td>Q4_0</td></tr>
 * <tr><td>token_embd (and output when the head is untied)</td><td>F32</td><td>F16</td><td>Q8_0</td><td>Q8_0</td></tr>
 * <tr><td>position_embd, LayerNorms, biases</td><td>F32</td><td>F32</td><td>F32</td><td>F32</td></tr>
 * </table>
 * This is what llama.cpp's own quantizer does from an F32 file, except that for Q4_0 it makes a tied head whose rows
 * are a multiple of 256 values Q6_K (gpt4j has no Q6_K quantizer; Q8_0 is closer to the floats), and the tensors come
 * out byte for byte the same (checked against llama.cpp's quantizer). A matrix whose rows are not whole blocks falls
 * back to F16, as in llama.cpp. A tied head is written once ({@code token_embd}); the llama.cpp of node-llama-cpp
 * 3.22.1 falls back to it (the February 2025 loader in {@code shared/GGUF-GPT2.md} wanted {@code output.weight} too).
 * Weights already packed in the type asked for are written as they are; others are dequantized and quantized. The
 * keys: {@code general.architecture = gpt2}, {@code general.name}, {@code general.file_type}
 * ({@code general.quantization_version = 2} for Q8_0/Q4_0), the {@code gpt2.*} hyper-parameters (UINT32, the epsilon
 * FLOAT32: llama.cpp refuses other types), and the tokenizer ({@code tokenizer.ggml.model = gpt2}, {@code pre =
 * gpt-2}, tokens in the byte-level alphabet, token types, merges, BOS = EOS = {@code <|endoftext|>}, no BOS added).
 *
 * <h2>How it is checked against llama.cpp</h2>
 * {@code benchmarks/llamacpp} holds the real llama.cpp (node-llama-cpp's CPU build) with two scripts: {@code run.mjs}
 * tokenizes, greedy-decodes and times a file; {@code quantize.sh} runs llama.cpp's own quantizer. Core's tests use
 * committed files llama.cpp quantized and decoded ({@code core/src/test/resources/gguf}); cli's {@code LlamaCppGgufIT}
 * (run by {@code mvn verify}; skipped with a reason without node, failing instead under {@code GPT4J_REQUIRE_LLAMA},
 * which {@code .ci/run} sets) exports the shipped model and compares token ids and 32-token greedy continuations of 26
 * prompts on both sides, F32 identical; at F16, Q8_0 and Q4_0 llama.cpp rounds activations before its products, so
 * near ties may part (counts printed), while the same weights written back as F32 decode identically.
 */
package dev.gpt4j.core.gguf;
