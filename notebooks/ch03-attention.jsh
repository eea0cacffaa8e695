// Chapter 3: attention. From a hand-computed self-attention over six word vectors to the causal multi-head
// attention inside gpt4j's model.

// 3.3 "Your journey starts with one step": six 3-d embeddings (the book's numbers)
INDArray inputs = Nd4j.createFromArray(new float[][] {{0.43f, 0.15f, 0.89f}, {0.55f, 0.87f, 0.66f}, {0.57f, 0.85f, 0.64f}, {0.22f, 0.58f, 0.33f}, {0.77f, 0.25f, 0.10f}, {0.05f, 0.80f, 0.55f}});

// attention scores are dot products; softmax over each row makes the weights; context = weights @ inputs
INDArray scores = inputs.mmul(inputs.transpose());
INDArray weights = Nd4j.create(scores.dataType(), scores.shape());
Softmax.forward(scores, weights);
INDArray context = weights.mmul(inputs);
System.out.println("attention weights:\n" + weights + "\ncontext vectors:\n" + context);
check(Math.abs(weights.getRow(1).sumNumber().doubleValue() - 1) < 1e-6, "each row of weights sums to 1");
check(Math.abs(context.getFloat(1, 0) - 0.4419f) < 1e-3 && Math.abs(context.getFloat(1, 1) - 0.6515f) < 1e-3 && Math.abs(context.getFloat(1, 2) - 0.5683f) < 1e-3, "the context vector of 'journey' is the book's [0.4419, 0.6515, 0.5683]");

// 3.5 causal attention: a token may not look ahead. Mask the scores above the diagonal with -inf before softmax.
INDArray masked = scores.dup();
for (int i = 0; i < 6; i++) for (int j = i + 1; j < 6; j++) masked.putScalar(i, j, Double.NEGATIVE_INFINITY);
INDArray causal = Nd4j.create(masked.dataType(), masked.shape());
Softmax.forward(masked, causal);
System.out.println("causal attention weights:\n" + causal);
boolean zeroAbove = true;
for (int i = 0; i < 6; i++) for (int j = i + 1; j < 6; j++) zeroAbove &= causal.getFloat(i, j) == 0f;
check(zeroAbove, "masked attention weights are exactly zero above the diagonal");
check(Math.abs(causal.getRow(3).sumNumber().doubleValue() - 1) < 1e-6, "and each row still sums to 1");

// 3.6 multi-head causal attention as a layer of its own: CausalSelfAttention (fused q, k, v projection, H heads,
// the mask, the output projection), with forward and backward. Its output at a position depends only on the
// inputs at that position and before it.
CausalSelfAttention mha = new CausalSelfAttention(12, 3, 0.0, true, org.nd4j.linalg.api.buffer.DataType.FLOAT, 7);
System.out.println(mha);
INDArray xs = Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 6, 12); // one sequence of 6 positions
INDArray before = mha.forward(xs, 1, 6).dup();
xs.getRow(4).addi(1.0);                                                      // change the input at position 4
INDArray after = mha.forward(xs, 1, 6).dup();
check(before.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4), org.nd4j.linalg.indexing.NDArrayIndex.all())
        .equals(after.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4), org.nd4j.linalg.indexing.NDArrayIndex.all())),
        "positions 0-3 of the attention layer's output do not see position 4");
check(!before.getRow(4).equals(after.getRow(4)), "position 4 does");
INDArray dx = mha.backward(Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.FLOAT, 6, 12));
check(dx.getRow(5).norm2Number().doubleValue() > 0 && mha.params().grad("c_attn.weight").norm2Number().doubleValue() > 0,
        "backward gives gradients for the inputs and the weights");

// Inside GptModel every layer runs the same attention code.
// The proof that the model is causal: changing a later token leaves the logits of every earlier position unchanged.
GptConfig cfg = new GptConfig(100, 16, 32, 2, 4, 0.0, 1e-5, true, true);
GptModel model = GptModel.create(cfg, 1).eval();
System.out.println(model + ", " + cfg.heads() + " heads of " + cfg.headDim() + " channels");
int[] a = {5, 17, 42, 8, 99, 3, 7, 1};
int[] b = a.clone();
b[5] = 64;
float[] la = model.logits(a, 1, 8).reshape(8 * 100).toFloatVector();
float[] lb = model.logits(b, 1, 8).reshape(8 * 100).toFloatVector();
check(Arrays.equals(Arrays.copyOf(la, 5 * 100), Arrays.copyOf(lb, 5 * 100)), "positions 0-4 do not see token 5 (their logits are identical)");
check(!Arrays.equals(Arrays.copyOfRange(la, 5 * 100, 6 * 100), Arrays.copyOfRange(lb, 5 * 100, 6 * 100)), "position 5 does see it");

// the KV cache (chapter 5's generation, made fast) computes the same attention one token at a time
KvCache cache = model.newKvCache(1);
float[] viaCache = model.prefill(cache, 0, Arrays.copyOf(a, 7));
float[] step = model.step(cache, new int[] {a[7]});
double maxDiff = 0;
for (int v = 0; v < 100; v++) maxDiff = Math.max(maxDiff, Math.abs(step[v] - la[7 * 100 + v]));
System.out.println(cache + ": largest difference from the full forward " + maxDiff);
check(maxDiff < 1e-5, "cached attention gives the full forward's logits within 1e-5");
cache.close();
model.close();
System.out.println("NOTEBOOK OK");
/exit
