package dev.gpt4j.training;

import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.SpecialTokens;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

/**
 * Next-token prediction over a token stream (Raschka ch. 2's sliding windows): documents are encoded and
 * joined by {@code <|endoftext|>}; a stable hash of each document puts it in the validation part or not.
 * Training windows of {@code T + 1} tokens start at random offsets drawn from (seed, batch index);
 * validation windows are consecutive and fixed.
 */
public final class PretrainData implements TrainingData {
    private final int[] train, val;
    private final int B, T;
    private final long seed;

    public PretrainData(List<String> documents, BpeTokenizer tokenizer, int valPercent, int batchSize, int length, long seed) {
        int end = tokenizer.specialTokenId(BpeTokenizer.END_OF_TEXT);
        int[] tr = new int[1024], va = new int[1024];
        int nt = 0, nv = 0;
        for (String d : documents) {
            int[] ids = tokenizer.encode(d, SpecialTokens.PLAIN_TEXT);
            CRC32 crc = new CRC32();
            crc.update(d.getBytes(StandardCharsets.UTF_8));
            boolean isVal = crc.getValue() % 100 < valPercent;
            if (isVal) {
                if (nv + ids.length + 1 > va.length) va = Arrays.copyOf(va, Math.max(2 * va.length, nv + ids.length + 1));
                System.arraycopy(ids, 0, va, nv, ids.length);
                nv += ids.length;
                va[nv++] = end;
            } else {
                if (nt + ids.length + 1 > tr.length) tr = Arrays.copyOf(tr, Math.max(2 * tr.length, nt + ids.length + 1));
                System.arraycopy(ids, 0, tr, nt, ids.length);
                nt += ids.length;
                tr[nt++] = end;
            }
        }
        // a corpus of too few documents to set whole ones aside (one text, as the-verdict) is split as one
        // stream instead: the last valPercent (at least a tenth) for validation
        if ((nv < length + 1 || nt < 10 * (length + 1)) && valPercent > 0) {
            int[] all = Arrays.copyOf(tr, nt + nv);
            System.arraycopy(va, 0, all, nt, nv);
            int n = nt + nv;
            int cut = n - Math.max(length + 1, n * Math.max(valPercent, 10) / 100);
            if (cut >= length + 1) {
                tr = all;
                va = Arrays.copyOfRange(all, cut, n);
                nv = va.length;
                nt = cut;
            }
        }
        if (nt < length + 1) {
            throw new IllegalArgumentException("the corpus has " + nt + " training tokens, fewer than one window of " + (length + 1));
        }
        this.train = Arrays.copyOf(tr, nt);
        this.val = Arrays.copyOf(va, nv);
        this.B = batchSize;
        this.T = length;
        this.seed = seed;
    }

    @Override
    public Batch train(long index) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        int[] x = new int[B * T], y = new int[B * T];
        for (int b = 0; b < B; b++) {
            int start = r.nextInt(train.length - T);
            System.arraycopy(train, start, x, b * T, T);
            System.arraycopy(train, start + 1, y, b * T, T);
        }
        return new Batch(x, y, B, T);
    }

    @Override
    public int validationBatches() {
        return val.length <= T ? 0 : Math.max(1, (val.length - 1) / (B * T));
    }

    @Override
    public Batch validation(int i) {
        int[] x = new int[B * T], y = new int[B * T];
        int windows = (val.length - 1) / T;
        for (int b = 0; b < B; b++) {
            int w = (i * B + b) % Math.max(1, windows);
            int start = Math.min(w * T, val.length - 1 - T);
            System.arraycopy(val, start, x, b * T, T);
            System.arraycopy(val, start + 1, y, b * T, T);
        }
        return new Batch(x, y, B, T);
    }

    @Override
    public String describe() {
        return String.format("pretraining: %,d training tokens, %,d validation tokens, windows of %d", train.length, val.length, T);
    }
}
