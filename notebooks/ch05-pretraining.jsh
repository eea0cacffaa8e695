// Chapter 5: pretraining on unlabeled text. The training loop by hand on the-verdict.txt, train and validation
// loss, then decoding with temperature and top-k.
String text = Files.readString(DATA.resolve("text/the-verdict.txt"));
BpeTokenizer tok = new BpeTrainer(1024, List.of(BpeTokenizer.END_OF_TEXT)).train(List.of(text));
int T = 64, B = 8;
// 90% of the story for training, the last 10% for validation (PretrainData does this for a one-document corpus)
PretrainData data = new PretrainData(List.of(text), tok, 10, B, T, 123);
System.out.println(data.describe());

GptConfig cfg = new GptConfig(tok.vocabSize(), T, 96, 2, 4, 0.0, 1e-5, true, true);
GptModel model = GptModel.create(cfg, 123);
AdamW opt = new AdamW(model.params(), 0.1);
System.out.println(model);

double valLoss(GptModel m, PretrainData d) {
    m.eval();
    double s = 0;
    for (int i = 0; i < d.validationBatches(); i++) { Batch b = d.validation(i); s += m.forward(b.inputs(), b.targets(), B, T); }
    m.train();
    return s / d.validationBatches();
}

// the loop of listing 5.3: forward, zero the gradients, backward, clip, step
List<Double> trainLosses = new ArrayList<>(), valLosses = new ArrayList<>();
double firstVal = valLoss(model, data);
for (int step = 0; step < 300; step++) {
    Batch b = data.train(step);
    double loss = model.forward(b.inputs(), b.targets(), B, T);
    model.zeroGrad();
    model.backward();
    opt.clipGradNorm(1.0);
    opt.step(2e-3);
    trainLosses.add(loss);
    if ((step + 1) % 50 == 0) {
        valLosses.add(valLoss(model, data));
        System.out.printf("step %3d  train loss %.3f  val loss %.3f%n", step + 1, loss, valLosses.get(valLosses.size() - 1));
    }
}
double lastTrain = trainLosses.subList(290, 300).stream().mapToDouble(d -> d).average().getAsDouble();
check(lastTrain < trainLosses.get(0) - 2.5, String.format("the training loss fell from %.2f to %.2f", trainLosses.get(0), lastTrain));
double bestVal = valLosses.stream().mapToDouble(d -> d).min().getAsDouble();
check(bestVal < firstVal - 1.0, String.format("the validation loss fell too, from %.2f to %.2f", firstVal, bestVal));
check(valLosses.get(valLosses.size() - 1) > bestVal + 0.3, "then rose again while the training loss kept falling: a 20 KB story overfits (the book's figure 5.12)");

// 5.3 decoding strategies: greedy, then temperature and top-k sampling with a seed
Generator gen = new Generator(model.eval(), tok);
String start = "Every effort moves you";
System.out.println("greedy:      " + start + gen.generate(start, GenerationOptions.greedy(30)).text());
for (double t : new double[] {0.5, 1.0, 1.5})
    System.out.println("temp " + t + " k 25: " + start + gen.generate(start, GenerationOptions.sampled(30, t, 25, 1.0, 7)).text());
Generation s1 = gen.generate(start, GenerationOptions.sampled(30, 1.0, 25, 1.0, 7));
Generation s2 = gen.generate(start, GenerationOptions.sampled(30, 1.0, 25, 1.0, 7));
check(Arrays.equals(s1.tokens(), s2.tokens()), "the same seed samples the same text");

// temperature reshapes the distribution: low sharpens it, high flattens it (checked on the sampler directly)
float[] logits = {2.0f, 1.0f, 0.1f};
int[] counts = new int[3];
Sampler hot = Sampler.of(5.0, 0, 1.0, 1), cold = Sampler.of(0.1, 0, 1.0, 1);
for (int i = 0; i < 1000; i++) counts[hot.sample(logits)]++;
int coldTop = 0;
for (int i = 0; i < 1000; i++) if (cold.sample(logits) == 0) coldTop++;
System.out.println("temperature 5: " + Arrays.toString(counts) + "; temperature 0.1: token 0 " + coldTop + " of 1000");
check(coldTop > 990 && counts[2] > 200, "cold sampling is nearly greedy, hot sampling spreads out");
model.close();
System.out.println("NOTEBOOK OK");
/exit
