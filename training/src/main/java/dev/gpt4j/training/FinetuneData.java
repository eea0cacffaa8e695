package dev.gpt4j.training;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.Corpora;
import dev.gpt4j.data.Example;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.TextToSqlExample;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Schema + question → SQL examples (Raschka ch. 7's instruction data), loss on the SQL tokens only. Each epoch
 * is a seeded shuffle; within windows of 32 batches examples are sorted by length so that a batch holds
 * similar lengths, and its length is rounded up to a multiple of {@link #BUCKET} (a few shapes in all). The
 * validation part is whole tables / databases ({@link Corpora#isValidation}).
 */
public final class FinetuneData implements TrainingData {
    /** Batch lengths are multiples of this. */
    public static final int BUCKET = 32;

    private final List<Example> train = new ArrayList<>(), val = new ArrayList<>();
    private final int B, maxLen;
    private final long seed;
    private final int skipped;
    private final Map<String, Integer> repeats;
    private final Map<String, Integer> perSource = new java.util.TreeMap<>(); // training examples by source, repeats counted
    private long planEpoch = -1;
    private int[][] plan;

    public FinetuneData(List<TextToSqlExample> pairs, PromptFormat format, int valPercent, int maxExamples, int batchSize, int maxLen,
                        long seed) {
        this(pairs, format, valPercent, maxExamples, batchSize, maxLen, seed, Map.of());
    }

    /**
     * As above, with a training example of source s occurring {@code repeats.get(s)} times per epoch (1 where the
     * map has no entry): oversampling a smaller dataset. Validation examples occur once.
     */
    public FinetuneData(List<TextToSqlExample> pairs, PromptFormat format, int valPercent, int maxExamples, int batchSize, int maxLen,
                        long seed, Map<String, Integer> repeats) {
        this.B = batchSize;
        this.maxLen = maxLen;
        this.seed = seed;
        int skip = 0;
        for (TextToSqlExample p : pairs) {
            boolean isVal = Corpora.isValidation(p.source(), p.group(), valPercent);
            if (!isVal && maxExamples > 0 && train.size() >= maxExamples) continue;
            Example e = format.example(p.schema(), p.question(), p.sql(), maxLen + 1);
            if (e == null) {
                skip++;
                continue;
            }
            if (isVal) val.add(e);
            else for (int k = repeats.getOrDefault(p.source(), 1); k > 0; k--) {
                train.add(e);
                perSource.merge(p.source(), 1, Integer::sum);
            }
        }
        if (maxExamples > 0 && val.size() > Math.max(B, maxExamples / 10)) val.subList(Math.max(B, maxExamples / 10), val.size()).clear();
        this.skipped = skip;
        this.repeats = Map.copyOf(repeats);
        if (train.isEmpty()) throw new IllegalArgumentException("no fine-tuning example fits in " + (maxLen + 1) + " tokens");
    }

    /** Micro-batches per epoch. */
    public int batchesPerEpoch() {
        return (train.size() + B - 1) / B;
    }

    @Override
    public Batch train(long index) {
        long epoch = index / batchesPerEpoch();
        if (epoch != planEpoch) {
            plan = plan(epoch);
            planEpoch = epoch;
        }
        int[] members = plan[(int) (index % batchesPerEpoch())];
        List<Example> ex = new ArrayList<>(members.length);
        for (int m : members) ex.add(train.get(m));
        return assemble(ex);
    }

    /** The batches of an epoch: shuffled, sorted by length within windows of 32 batches, batches shuffled. */
    private int[][] plan(long epoch) {
        int n = train.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom r = new SplittableRandom(seed * 31 + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            Integer t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int window = 32 * B;
        for (int s = 0; s < n; s += window) {
            Arrays.sort(order, s, Math.min(n, s + window), Comparator.comparingInt(i -> train.get(i).length()));
        }
        int[][] batches = new int[batchesPerEpoch()][];
        for (int b = 0; b < batches.length; b++) {
            int from = b * B, to = Math.min(n, from + B);
            batches[b] = new int[to - from];
            for (int k = from; k < to; k++) batches[b][k - from] = order[k];
        }
        for (int i = batches.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int[] t = batches[i];
            batches[i] = batches[j];
            batches[j] = t;
        }
        return batches;
    }

    /** Rows of the examples' inputs and targets, padded with token 0 (no loss) to the bucketed length. */
    private Batch assemble(List<Example> ex) {
        int longest = 0;
        for (Example e : ex) longest = Math.max(longest, e.length() - 1);
        int T = Math.min(maxLen, (longest + BUCKET - 1) / BUCKET * BUCKET);
        int rows = B; // always B rows (a short last batch is padded) so that shapes stay few
        int[] x = new int[rows * T], y = new int[rows * T];
        Arrays.fill(y, GptModel.IGNORE);
        for (int b = 0; b < ex.size(); b++) {
            int[] in = ex.get(b).inputs(), tg = ex.get(b).targets();
            System.arraycopy(in, 0, x, b * T, in.length);
            System.arraycopy(tg, 0, y, b * T, tg.length);
        }
        return new Batch(x, y, rows, T);
    }

    @Override
    public Batch validation(int i) {
        int from = (i * B) % Math.max(1, val.size());
        List<Example> ex = new ArrayList<>(val.subList(from, Math.min(val.size(), from + B)));
        return assemble(ex);
    }

    @Override
    public int validationBatches() {
        return (val.size() + B - 1) / B;
    }

    @Override
    public String describe() {
        String repeated = repeats.values().stream().anyMatch(k -> k > 1) ? " (with repeats " + new java.util.TreeMap<>(repeats) + ")" : "";
        StringBuilder sources = new StringBuilder();
        perSource.forEach((s, n) -> sources.append(sources.length() == 0 ? "" : ", ").append(String.format("%s %,d", s, n)));
        return String.format("fine-tuning: %,d training examples%s [%s] (%,d batches per epoch), %,d validation examples, %,d too long for %d tokens",
                train.size(), repeated, sources, batchesPerEpoch(), val.size(), skipped, maxLen + 1);
    }
}
