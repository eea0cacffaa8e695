/**
 * Stored weight formats of a linear layer and their matrix kernels: {@link dev.gpt4j.core.quant.QuantType} (F16,
 * Q8_0, Q4_0, NF4) and {@link dev.gpt4j.core.quant.QuantizedMatrix}.
 *
 * <h2>Orientation</h2>
 * A quantized weight is [rows = out features, cols = in features], row-major, quantized in blocks of consecutive
 * values along a row (the input dimension), as ggml and bitsandbytes store an nn.Linear weight. GPT-2's Conv1D
 * weights, which Hugging Face files hold as [in, out], are therefore transposed before they are quantized. A row's
 * length must be a multiple of the block size (32 for Q8_0 and Q4_0, 64 for NF4; 'medium' has 384 and 1536).
 *
 * <h2>File layouts (safetensors; every multi-byte value little-endian)</h2>
 * For a weight named {@code W} of [rows, cols]:
 * <table>
 * <caption>tensors per format</caption>
 * <tr><th>format</th><th>tensor</th><th>dtype, shape</th><th>content</th></tr>
 * <tr><td>F16</td><td>{@code W}</td><td>F16 [rows, cols]</td><td>IEEE halfs, rounded to nearest even</td></tr>
 * <tr><td>Q8_0</td><td>{@code W}</td><td>U8 [rows, cols / 32 · 34]</td><td>each row's blocks in order, a block
 *     being ggml's {@code block_q8_0}: the fp16 scale d = amax / 127, then 32 int8 q = roundf(x / d); value q · d</td></tr>
 * <tr><td>Q4_0</td><td>{@code W}</td><td>U8 [rows, cols / 32 · 18]</td><td>ggml's {@code block_q4_0}: the fp16
 *     scale d = max / -8 (max = the value of largest magnitude, signed), then 16 bytes, byte j holding element j in
 *     its low nibble and element j + 16 in its high nibble; value (q - 8) · d</td></tr>
 * <tr><td rowspan="5">NF4</td><td>{@code W}</td><td>U8 [rows, cols / 2]</td><td>byte k of a row holds element 2k in
 *     its high nibble and element 2k + 1 in its low nibble (bitsandbytes' packing); a nibble indexes the 16 NF4
 *     code values ({@link dev.gpt4j.core.quant.Nf4#codeValues()})</td></tr>
 * <tr><td>{@code W.absmax}</td><td>F32 [rows · cols / 64]</td><td>each block's absmax (block b = values 64b to
 *     64b + 63 of the row-major matrix); value code[q] · absmax. With double quantization instead:
 *     U8 [rows · cols / 64], an index per block into {@code W.nested_quant_map}</td></tr>
 * <tr><td>{@code W.nested_absmax}</td><td>F32 [ceil(rows · cols / 64 / 256)]</td><td>double quantization only:
 *     the scale of each run of 256 absmax codes</td></tr>
 * <tr><td>{@code W.nested_offset}</td><td>F32 [1]</td><td>double quantization only: the mean absmax, subtracted
 *     before the absmax values were quantized</td></tr>
 * <tr><td>{@code W.nested_quant_map}</td><td>F32 [256]</td><td>double quantization only: the map the codes index
 *     (bitsandbytes' dynamic 8-bit map); block b's absmax is
 *     {@code nested_quant_map[absmax[b]] · nested_absmax[b / 256] + nested_offset}, in float32 in that order</td></tr>
 * </table>
 * Q8_0 and Q4_0 are byte for byte the blocks llama.cpp writes in a GGUF tensor of that type (a test checks them
 * against llama.cpp's own quantizer). The NF4 tensors are the bytes bitsandbytes makes for an nn.Linear weight with
 * {@code quantize_4bit(quant_type="nf4", blocksize=64, compress_statistics=...)}, under its state-dict suffixes
 * ({@code absmax}, {@code nested_absmax}, {@code nested_quant_map}); bitsandbytes keeps its packed weight as
 * [rows · cols / 2, 1] and the offset in a JSON entry, so converting either way is a rename and a reshape. The map is
 * stored rather than recomputed because torch may round a few of its entries an ulp differently from ours.
 * The format of each tensor is for the model file's metadata to say (the U8 shapes above give rows and cols back).
 *
 * <h2>Products</h2>
 * {@link dev.gpt4j.core.quant.QuantizedMatrix#matmul(float[], int, float[], int, int)} multiplies float activations by
 * the weights as they dequantize (every format). For Q8_0 and Q4_0 weights,
 * {@link dev.gpt4j.core.quant.QuantizedMatrix#matmul(dev.gpt4j.core.quant.Q8Activations, float[], int, int)} computes
 * what llama.cpp computes: the activations quantized to Q8_0 blocks ({@link dev.gpt4j.core.quant.Q8Activations}, the
 * rounding of ggml-cpu's x86 {@code quantize_row_q8_0}), then per block the integer dot product Σ q_w · q_x scaled by
 * d_w · d_x ({@code ggml_vec_dot_q8_0_q8_0}, {@code ggml_vec_dot_q4_0_q8_0}); models use it at inference by default.
 *
 * <h2>In memory</h2>
 * Structure of arrays ({@link dev.gpt4j.core.quant.QuantizedMatrix}): per element 2 bytes (F16), 1 + 4/32 (Q8_0),
 * 0.5 + 4/32 (Q4_0: ggml's nibbles, the fp16 scale widened to a float), 0.5 + 4/64 (NF4) or 0.5 + 1/64 + 4/16384
 * (NF4 double-quantized, the absmax decoded per block as the kernels go).
 */
package dev.gpt4j.core.quant;
