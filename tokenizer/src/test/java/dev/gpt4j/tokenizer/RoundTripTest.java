package dev.gpt4j.tokenizer;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class RoundTripTest {
    static BpeTokenizer tok;

    /** Before each test, so that each one is reported skipped without GPT-2's vocabulary (it is loaded once). */
    @BeforeEach
    void load() {
        Path dir = TestData.gpt2();
        if (tok == null) tok = BpeTokenizer.load(dir);
    }

    @Test
    void decodeOfEncodeIsIdentityForRandomUnicode() {
        Random rnd = new Random(7);
        for (int t = 0; t < 5_000; t++) {
            String s = RandomText.next(rnd, 1 + rnd.nextInt(60));
            for (SpecialTokens policy : new SpecialTokens[] {SpecialTokens.ALLOW, SpecialTokens.PLAIN_TEXT}) {
                assertEquals(s, tok.decode(tok.encode(s, policy)), () -> RandomText.escape(s) + " " + policy);
            }
        }
    }

    @Test
    void specialTokenPolicies() {
        String s = "a<|endoftext|>b";
        assertArrayEquals(new int[] {64, 50256, 65}, tok.encode(s, SpecialTokens.ALLOW));
        int[] plain = tok.encode(s, SpecialTokens.PLAIN_TEXT);
        assertFalse(Arrays.stream(plain).anyMatch(i -> i == 50256));
        assertEquals(s, tok.decode(plain));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.encode(s, SpecialTokens.REFUSE));
        assertTrue(e.getMessage().contains("<|endoftext|>") && e.getMessage().contains("index 1"), e.getMessage());
        assertArrayEquals(new int[] {64}, tok.encode("a", SpecialTokens.REFUSE));
    }

    @Test
    void registeredSpecialTokensAreNeverSplitAndLongestWins() {
        BpeTokenizer t = tok.withSpecialTokens("<|sql|>", "<|sql|>x");
        int sql = t.specialTokenId("<|sql|>"), sqlx = t.specialTokenId("<|sql|>x");
        assertEquals(50257, sql);
        assertEquals(50258, sqlx);
        assertArrayEquals(new int[] {sql, 16, sqlx}, t.encode("<|sql|>1<|sql|>x"));
        assertEquals("<|sql|>1<|sql|>x", t.decode(t.encode("<|sql|>1<|sql|>x")));
        assertThrows(IllegalArgumentException.class, () -> tok.withSpecialTokens("Ġthe"));
    }

    @Test
    void longPiecesMergeExactlyAsShortOnes() {
        Random rnd = new Random(3);
        String[] alphabets = {"a", "ab", " ", "=-", "0123456789", "abcdefghij", "é漢😀"};
        for (int t = 0; t < 300; t++) {
            String alphabet = alphabets[t % alphabets.length];
            StringBuilder sb = new StringBuilder();
            int len = 1 + rnd.nextInt(200);
            for (int i = 0; i < len; i++) sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0,
                    rnd.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            String piece = sb.toString();
            int[] a = bytesOf(piece), b = a.clone();
            int na = tok.mergeShort(a, a.length), nb = tok.mergeLong(b, b.length);
            assertArrayEquals(Arrays.copyOf(a, na), Arrays.copyOf(b, nb), piece);
        }
    }

    /**
     * Long pieces merge in O(n log n): a word of two million random letters is one piece, which GPT-2's own merge loop
     * (quadratic there) takes minutes to merge (a million: 40 s on this machine), and the heap 2 s (15 s on a machine
     * shared by several builds). The bound leaves that room; the test runs in its own thread so that a slow encoder
     * fails at the bound instead of after it.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void veryLongInputStaysFast() {
        String s = "a".repeat(200_000);
        int[] ids = tok.encode(s);
        assertEquals(s, tok.decode(ids));
        assertTrue(ids.length < 200_000 / 2, "runs of 'a' merge");
        Random rnd = new Random(11);
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < 2_000_000; i++) word.append((char) ('a' + rnd.nextInt(26)));
        String w = word.toString();
        ids = tok.encode(w);
        assertEquals(w, tok.decode(ids));
        assertTrue(ids.length < 2_000_000 * 2 / 3, "letters merge: " + ids.length + " tokens");
    }

    @Test
    void outOfRangeIdsGetAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(1, 50257));
        assertEquals("token id 50257 at position 1 is out of range: this vocabulary has ids 0 to 50256", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.decode(-1));
    }

    private static int[] bytesOf(String s) {
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int[] out = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = tok.tokenId(String.valueOf(ByteLevel.charOf(bytes[i])));
        return out;
    }
}
