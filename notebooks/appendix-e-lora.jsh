// Appendix E: parameter-efficient fine-tuning with LoRA. A low-rank update B A beside a frozen weight W: the layer
// computes W x + (alpha/r) B A x, with A [r, in] and B [out, r]; B starts at zero, so training starts from the model.

// E.1 a small model stands in for a pretrained one; an adapter of rank 8 on the attention's fused q,k,v projection
GptConfig cfg = new GptConfig(512, 64, 128, 2, 4, 0.0, 1e-5, true, true);
GptModel model = GptModel.create(cfg, 7);
LoraAdapter adapter = LoraAdapter.create(LoraConfig.parse("r=8,alpha=16,targets=c_attn"), cfg, "notebook", 1);
System.out.println(model);
System.out.println(adapter);
check(adapter.parameterCount() == 2L * (8 * 128 + 3 * 128 * 8), "per block: A [8, 128] and B [384, 8]");
System.out.printf("the adapter trains %,d parameters, %.2f%% of the model's %,d%n", adapter.parameterCount(),
        100.0 * adapter.parameterCount() / model.parameterCount(), model.parameterCount());
check(adapter.parameterCount() * 50 < model.parameterCount(), "under 2% of the model (on GPT-2 124M, rank 8 on c_attn: 0.24%)");

// E.2 attached and untrained, it changes nothing: B is zero
var rnd = new Random(3);
int B = 4, T = 32;
int[] tokens = rnd.ints(B * T, 0, cfg.vocabSize()).toArray();
int[] targets = new int[B * T];
for (int i = 0; i < targets.length; i++) targets[i] = (tokens[i] * 7 + 3) % cfg.vocabSize(); // a rule to learn
float[] before = model.logits(tokens, B, T).dup().data().asFloat();
model.addAdapter("sql", adapter);
model.setActiveAdapter("sql");
check(Arrays.equals(before, model.logits(tokens, B, T).dup().data().asFloat()), "a new adapter leaves the logits exactly as they were");

// E.3 train only A and B: the base is frozen (its gradient buffer is freed), AdamW sees the adapter's parameters
model.freezeBase();
model.train();
AdamW opt = new AdamW(adapter.params(), 0.0);
double first = 0, last = 0;
for (int step = 0; step < 60; step++) {
    model.zeroGrad();
    double loss = model.forward(tokens, targets, B, T);
    model.backward();
    opt.step(1e-2);
    if (step == 0) first = loss;
    last = loss;
}
System.out.printf("loss %.3f -> %.3f in 60 steps, the base untouched%n", first, last);
check(last < first - 0.5, "the adapter learns");
check(!model.params().hasGrads(), "the frozen base has no gradients at all");

// E.4 merge: W += (alpha/r) (B A)^T (GPT-2 stores W as [in, out]); the merged model alone answers as model + adapter
model.eval();
float[] onTop = model.logits(tokens, B, T).dup().data().asFloat();
model.mergeAdapter("sql");
float[] merged = model.logits(tokens, B, T).dup().data().asFloat();
double worst = 0;
for (int i = 0; i < onTop.length; i++) worst = Math.max(worst, Math.abs(onTop[i] - merged[i]));
System.out.printf("largest difference between adapter on top and merged: %.2e%n", worst);
check(worst < 1e-4, "merged and unmerged outputs agree (float32 rounding only)");

// E.5 an adapter is a PEFT folder: adapter_config.json and adapter_model.safetensors, which Hugging Face's PEFT loads
Path dir = Files.createTempDirectory("lora");
adapter.save(dir);
System.out.println(Files.readString(dir.resolve("adapter_config.json")));
check(LoraAdapter.load(dir, cfg).config().equals(adapter.config()), "saved and loaded back");
model.close();
System.out.println("NOTEBOOK OK");
/exit
