package dev.gpt4j.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Learns a byte-level BPE vocabulary from text (Raschka ch. 2; the algorithm of Sennrich et al. on bytes, as in
 * GPT-2). The text is pre-tokenized with GPT-2's pattern, so merges never cross word boundaries; special tokens
 * are cut out of the text first and get the last ids.
 *
 * <p>Incremental: pair counts are kept, each merge updates only the words that contain the merged pair, and a
 * max-heap with lazy deletion finds the next most frequent pair. Ties go to the pair with the smaller
 * (left id, right id), so the result is the same for the same input and settings.
 *
 * <pre>{@code
 * BpeTokenizer tok = new BpeTrainer(8192, List.of("<|endoftext|>")).trainFiles(List.of(Path.of("corpus.txt")));
 * }</pre>
 */
public final class BpeTrainer {
    private final int vocabSize;
    private final List<String> specialTokens;
    private final int minFrequency;

    /** A trainer for {@code vocabSize} ids in all (256 bytes + merges + special tokens), merging pairs seen twice or more. */
    public BpeTrainer(int vocabSize, List<String> specialTokens) {
        this(vocabSize, specialTokens, 2);
    }

    /** As above; pairs seen fewer than {@code minFrequency} times are never merged (training may stop early). */
    public BpeTrainer(int vocabSize, List<String> specialTokens, int minFrequency) {
        List<String> specials = List.copyOf(new LinkedHashSet<>(specialTokens));
        if (vocabSize < 256 + specials.size()) {
            throw new IllegalArgumentException("vocabSize " + vocabSize + " is below the minimum of 256 byte tokens + "
                    + specials.size() + " special tokens");
        }
        for (String s : specials) if (s.isEmpty()) throw new IllegalArgumentException("empty special token");
        this.vocabSize = vocabSize;
        this.specialTokens = specials;
        this.minFrequency = Math.max(1, minFrequency);
    }

    /** Trains on UTF-8 text files (each read whole). */
    public BpeTokenizer trainFiles(List<Path> files) {
        WordCounts counts = new WordCounts();
        for (Path f : files) {
            try {
                counts.add(Files.readString(f, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
            }
        }
        return train(counts);
    }

    /** Trains on texts in memory. */
    public BpeTokenizer train(Iterable<String> texts) {
        WordCounts counts = new WordCounts();
        for (String t : texts) counts.add(t);
        return train(counts);
    }

    /** Pre-tokenized word frequencies, with special-token text removed. */
    private final class WordCounts {
        final Map<String, long[]> counts = new HashMap<>();

        void add(String text) {
            int pos = 0;
            while (pos < text.length()) {
                int at = text.length(), len = 0;
                for (String s : specialTokens) {
                    int i = text.indexOf(s, pos);
                    if (i >= 0 && (i < at || (i == at && s.length() > len))) {
                        at = i;
                        len = s.length();
                    }
                }
                PreTokenizer.split(text, pos, at, (a, b) -> counts.computeIfAbsent(text.substring(a, b), k -> new long[1])[0]++);
                pos = at + len;
            }
        }
    }

    /** Statistics of one pair: how often it occurs (weighted by word counts) and in which words. */
    private static final class Pair {
        final int left, right;
        long count;
        int[] words = new int[2];
        int nWords;

        Pair(int left, int right) {
            this.left = left;
            this.right = right;
        }

        void addWord(int w) {
            if (nWords > 0 && words[nWords - 1] == w) return;
            if (nWords == words.length) words = Arrays.copyOf(words, nWords * 2);
            words[nWords++] = w;
        }
    }

    private BpeTokenizer train(WordCounts wc) {
        // Ids 0..255 are the bytes, in GPT-2's order; merges take the next ids; special tokens come last.
        int[] order = ByteLevel.gpt2ByteOrder();
        int[] byteId = new int[256];
        List<String> tokens = new ArrayList<>(vocabSize);
        for (int i = 0; i < 256; i++) {
            byteId[order[i]] = i;
            tokens.add(String.valueOf(ByteLevel.charOf(order[i])));
        }
        int nWords = wc.counts.size();
        int[][] words = new int[nWords][];
        long[] freq = new long[nWords];
        int w = 0;
        // Sorted, so that word indices (and so the pair lists) do not depend on HashMap iteration order.
        List<String> keys = new ArrayList<>(wc.counts.keySet());
        keys.sort(null);
        for (String k : keys) {
            byte[] b = k.getBytes(StandardCharsets.UTF_8);
            int[] s = new int[b.length];
            for (int i = 0; i < b.length; i++) s[i] = byteId[b[i] & 0xFF];
            words[w] = s;
            freq[w++] = wc.counts.get(k)[0];
        }

        Map<Long, Pair> pairs = new HashMap<>();
        for (w = 0; w < nWords; w++) {
            int[] s = words[w];
            for (int i = 0; i + 1 < s.length; i++) {
                Pair p = pairs.computeIfAbsent(MergeTable.key(s[i], s[i + 1]), k -> new Pair((int) (k >> 32), (int) (long) k));
                p.count += freq[w];
                p.addWord(w);
            }
        }
        // Max-heap of {count, left, right}; entries may be stale (counts of old pairs only ever fall).
        PriorityQueue<long[]> heap = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(b[0], a[0])
                : a[1] != b[1] ? Long.compare(a[1], b[1]) : Long.compare(a[2], b[2]));
        for (Pair p : pairs.values()) heap.add(new long[] {p.count, p.left, p.right});

        int targetTokens = vocabSize - specialTokens.size();
        List<int[]> merges = new ArrayList<>(targetTokens - 256);
        Map<String, Integer> idOf = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) idOf.put(tokens.get(i), i);
        int[] lastVisit = new int[nWords];
        Arrays.fill(lastVisit, -1);
        while (tokens.size() < targetTokens && !heap.isEmpty()) {
            long[] top = heap.poll();
            Pair p = pairs.get(MergeTable.key((int) top[1], (int) top[2]));
            if (p == null) continue; // merged already
            if (p.count != top[0]) {
                if (p.count > 0) heap.add(new long[] {p.count, p.left, p.right});
                continue;
            }
            if (p.count < minFrequency) break;
            int a = p.left, b = p.right;
            // Two different pairs can spell the same bytes ("ab"+"c", "a"+"bc"): the second merge reuses the id.
            String text = tokens.get(a) + tokens.get(b);
            Integer known = idOf.get(text);
            int id = known != null ? known : tokens.size();
            if (known == null) {
                tokens.add(text);
                idOf.put(text, id);
            }
            merges.add(new int[] {a, b});
            // Only pairs with the new token can gain count in this step; they get fresh heap entries after it.
            Map<Long, Pair> touched = new HashMap<>();
            int step = merges.size();
            for (int k = 0; k < p.nWords; k++) {
                int wi = p.words[k];
                if (lastVisit[wi] == step) continue;
                lastVisit[wi] = step;
                int[] s = words[wi];
                if (!contains(s, a, b)) continue; // stale entry: an earlier merge took this pair apart
                long f = freq[wi];
                for (int i = 0; i + 1 < s.length; i++) pairs.get(MergeTable.key(s[i], s[i + 1])).count -= f;
                s = mergeAll(s, a, b, id);
                words[wi] = s;
                for (int i = 0; i + 1 < s.length; i++) {
                    long key = MergeTable.key(s[i], s[i + 1]);
                    Pair q = pairs.get(key);
                    if (q == null) {
                        q = new Pair(s[i], s[i + 1]);
                        pairs.put(key, q);
                    }
                    q.count += f;
                    if (s[i] == id || s[i + 1] == id) {
                        q.addWord(wi);
                        touched.put(key, q);
                    }
                }
            }
            pairs.remove(MergeTable.key(a, b));
            for (Pair q : touched.values()) heap.add(new long[] {q.count, q.left, q.right});
        }
        for (String s : specialTokens) {
            if (idOf.containsKey(s)) throw new IllegalStateException("special token " + s + " was also learned as text");
            tokens.add(s);
        }
        return BpeTokenizer.of(tokens.toArray(new String[0]), merges.toArray(new int[0][]), specialTokens);
    }

    private static boolean contains(int[] s, int a, int b) {
        for (int i = 0; i + 1 < s.length; i++) if (s[i] == a && s[i + 1] == b) return true;
        return false;
    }

    private static int[] mergeAll(int[] s, int a, int b, int id) {
        int[] out = new int[s.length];
        int n = 0;
        for (int i = 0; i < s.length; ) {
            if (i + 1 < s.length && s[i] == a && s[i + 1] == b) {
                out[n++] = id;
                i += 2;
            } else {
                out[n++] = s[i++];
            }
        }
        return Arrays.copyOf(out, n);
    }
}
