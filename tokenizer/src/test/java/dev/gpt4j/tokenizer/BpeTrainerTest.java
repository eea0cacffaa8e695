package dev.gpt4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

class BpeTrainerTest {

    static String verdict() throws Exception {
        return Files.readString(TestData.dir("text/the-verdict.txt").resolve("text/the-verdict.txt"));
    }

    /** The textbook algorithm: recount every pair before every merge. The incremental trainer must agree. */
    static List<String> naiveMerges(String text, int merges) {
        Map<String, Long> counts = new TreeMap<>();
        PreTokenizer.split(text, 0, text.length(), (a, b) -> counts.merge(text.substring(a, b), 1L, Long::sum));
        int[] order = ByteLevel.gpt2ByteOrder();
        int[] byteId = new int[256];
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            byteId[order[i]] = i;
            tokens.add(String.valueOf(ByteLevel.charOf(order[i])));
        }
        List<int[]> words = new ArrayList<>();
        List<Long> freq = new ArrayList<>();
        counts.forEach((w, c) -> {
            byte[] b = w.getBytes(StandardCharsets.UTF_8);
            int[] s = new int[b.length];
            for (int i = 0; i < b.length; i++) s[i] = byteId[b[i] & 0xFF];
            words.add(s);
            freq.add(c);
        });
        List<String> out = new ArrayList<>();
        Map<String, Integer> idOf = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) idOf.put(tokens.get(i), i);
        for (int m = 0; m < merges; m++) {
            Map<Long, Long> pc = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                int[] s = words.get(w);
                for (int i = 0; i + 1 < s.length; i++) pc.merge(MergeTable.key(s[i], s[i + 1]), freq.get(w), Long::sum);
            }
            long bestKey = -1, bestCount = 0;
            for (Map.Entry<Long, Long> e : pc.entrySet()) {
                long k = e.getKey(), c = e.getValue();
                if (c > bestCount || (c == bestCount && Long.compareUnsigned(k, bestKey) < 0)) {
                    bestCount = c;
                    bestKey = k;
                }
            }
            if (bestCount < 2) break;
            int a = (int) (bestKey >> 32), b = (int) bestKey;
            String t = tokens.get(a) + tokens.get(b);
            int id = idOf.computeIfAbsent(t, k -> {
                tokens.add(k);
                return tokens.size() - 1;
            });
            out.add(tokens.get(a) + " " + tokens.get(b));
            for (int w = 0; w < words.size(); w++) {
                int[] s = words.get(w), r = new int[s.length];
                int n = 0;
                for (int i = 0; i < s.length; ) {
                    if (i + 1 < s.length && s[i] == a && s[i + 1] == b) {
                        r[n++] = id;
                        i += 2;
                    } else r[n++] = s[i++];
                }
                words.set(w, Arrays.copyOf(r, n));
            }
        }
        return out;
    }

    static List<String> mergeStrings(BpeTokenizer t) {
        List<String> out = new ArrayList<>();
        for (int[] m : t.merges()) out.add(t.tokenString(m[0]) + " " + t.tokenString(m[1]));
        return out;
    }

    @Test
    void incrementalEqualsNaiveRecount() throws Exception {
        String text = verdict();
        BpeTokenizer t = new BpeTrainer(256 + 500 + 1, List.of("<|endoftext|>")).train(List.of(text));
        assertEquals(naiveMerges(text, 500), mergeStrings(t));
        assertEquals(757, t.vocabSize());
        assertEquals(756, t.specialTokenId("<|endoftext|>"));
    }

    @Test
    void firstMergesOfASmallExample() {
        // One word "aaabdaaabac": (a,a) occurs 4 times and merges first, leaving [aa a b d aa a b a c];
        // then (a,b) and (aa,a) tie at 2 and the smaller left id wins, so (a,b); then (aa,ab).
        BpeTokenizer t = new BpeTrainer(259, List.of()).train(List.of("aaabdaaabac"));
        assertEquals(List.of("a a", "a b", "aa ab"), mergeStrings(t));
        assertEquals(List.of("aaab", "d", "aaab", "a", "c"), t.tokenize("aaabdaaabac"));
    }

    @Test
    void deterministicAndRoundTripsThroughFiles(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("corpus.txt");
        Files.writeString(corpus, verdict() + "<|endoftext|>SELECT count(*) FROM singer WHERE age > 30");
        BpeTrainer trainer = new BpeTrainer(1000, List.of("<|endoftext|>", "<|sql|>"));
        BpeTokenizer a = trainer.trainFiles(List.of(corpus)), b = trainer.trainFiles(List.of(corpus));
        assertEquals(mergeStrings(a), mergeStrings(b));
        assertEquals(1000, a.vocabSize());
        assertEquals(Map.of("<|endoftext|>", 998, "<|sql|>", 999), a.specialTokens());
        // special-token text never becomes part of a learned token
        for (int id = 0; id < 998; id++) assertFalse(a.tokenString(id).contains("<|endoftext|>"));

        a.save(dir.resolve("vocab"));
        BpeTokenizer loaded = BpeTokenizer.load(dir.resolve("vocab"));
        assertEquals(mergeStrings(a), mergeStrings(loaded));
        assertEquals(a.specialTokens(), loaded.specialTokens());
        Random rnd = new Random(1);
        for (int i = 0; i < 500; i++) {
            String s = RandomText.next(rnd, 1 + rnd.nextInt(30));
            assertArrayEquals(a.encode(s), loaded.encode(s));
            assertEquals(s, loaded.decode(loaded.encode(s)));
        }
        String text = verdict();
        assertTrue(a.encode(text).length < text.length() / 2, "a trained vocabulary compresses its own corpus");
    }

    @Test
    void gpt2FilesSurviveSaveAndLoadByteForByte(@TempDir Path dir) throws Exception {
        BpeTokenizer gpt2 = BpeTokenizer.load(TestData.gpt2());
        gpt2.save(dir);
        assertEquals(Files.readString(TestData.gpt2().resolve("merges.txt")).strip(),
                Files.readString(dir.resolve("merges.txt")).strip());
        BpeTokenizer again = BpeTokenizer.load(dir);
        assertEquals(gpt2.specialTokens(), again.specialTokens());
        String text = verdict();
        assertArrayEquals(gpt2.encode(text), again.encode(text));
    }

    @Test
    void rejectsImpossibleSizes() {
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer(256, List.of("<|endoftext|>")));
    }
}
