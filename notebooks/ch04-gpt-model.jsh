// Chapter 4: a GPT model from scratch. Its size, its shapes, and text from an untrained model.

// 4.1 GPT-2 small, the book's 124M model: count its parameters without allocating them
GptConfig gpt2 = GptConfig.gpt2Small124M();
long n = Parameters.layout(gpt2).stream().mapToLong(Parameters.Slot::size).sum();
System.out.printf("%s: %,d parameters%n", gpt2, n);
check(n == 124_439_808L, "GPT-2 small with a tied output head has 124,439,808 parameters");
long untied = Parameters.layout(gpt2.withTiedHead(false)).stream().mapToLong(Parameters.Slot::size).sum();
check(untied - n == 50257L * 768, "a separate output head adds V x C = 38,597,376 (the book's 163M)");
System.out.printf("float32 weights: %.0f MB%n", n * 4 / 1e6);

// each transformer block: LayerNorm, attention, residual; LayerNorm, MLP (C -> 4C -> C with GELU), residual
Parameters.layout(gpt2).stream().filter(s -> s.name().startsWith("h.0.")).forEach(s -> System.out.println("  " + s.name() + " " + Arrays.toString(s.shape())));

// 4.6 a tiny model we can run: logits are [B*T, V]; before training the loss is about ln V
GptConfig tiny = GptConfig.tiny();
GptModel model = GptModel.create(tiny, 123);
System.out.println(model);
int B = 2, T = 8;
var rnd = new Random(1);
int[] tokens = rnd.ints(B * T, 0, tiny.vocabSize()).toArray();
int[] targets = rnd.ints(B * T, 0, tiny.vocabSize()).toArray();
INDArray logits = model.logits(tokens, B, T);
System.out.println("logits shape " + Arrays.toString(logits.shape()));
check(Arrays.equals(logits.shape(), new long[] {B * T, tiny.vocabSize()}), "one row of V logits per token");
double loss = model.forward(tokens, targets, B, T);
System.out.printf("initial loss %.3f, ln V = %.3f%n", loss, Math.log(tiny.vocabSize()));
check(Math.abs(loss - Math.log(tiny.vocabSize())) < 0.1, "an untrained model's loss is about ln V (it guesses uniformly)");

// 4.7 generating text: greedy decoding of an untrained model gives noise, but the loop is the real one
BpeTokenizer gptTok = BpeTokenizer.load(DATA.resolve("gpt2"));
GptModel small = GptModel.create(tiny.withVocabSize(gptTok.vocabSize()), 123).eval();
Generation g = new Generator(small, gptTok).generate("Hello, I am", GenerationOptions.greedy(6));
System.out.println("'Hello, I am' + " + g);
check(g.tokens().length == 6, "six new tokens");
check(Arrays.equals(g.tokens(), new Generator(small, gptTok).generate("Hello, I am", GenerationOptions.greedy(6)).tokens()), "greedy decoding is deterministic");
small.close();
model.close();
System.out.println("NOTEBOOK OK");
/exit
