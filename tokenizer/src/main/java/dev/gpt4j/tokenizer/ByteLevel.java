package dev.gpt4j.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's reversible map between the 256 byte values and 256 printable Unicode characters, so that every
 * byte sequence can be written as a token string in {@code vocab.json}. Printable Latin-1 bytes map to
 * themselves; the other 68 bytes map to U+0100 and up, in byte order ("Ġ" is the space byte 0x20).
 */
public final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            BYTE_TO_CHAR[b] = printable[b] ? (char) b : (char) (256 + extra++);
        }
        Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
    }

    private ByteLevel() {}

    /** The character that stands for byte {@code b} (0..255) in a token string. */
    public static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte (0..255) that character {@code c} stands for, or -1 if it is not one of the 256. */
    public static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Bytes to a token string, e.g. {@code " the"} as UTF-8 becomes {@code "Ġthe"}. */
    public static String toTokenString(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /** A token string back to its bytes, or null if some character is not one of the 256. */
    public static byte[] fromTokenString(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < out.length; i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) return null;
            out[i] = (byte) b;
        }
        return out;
    }

    /**
     * The order in which GPT-2's vocabulary lists its 256 byte tokens (ids 0..255): the printable bytes
     * first, in byte order, then the others. New vocabularies use the same order.
     */
    public static int[] gpt2ByteOrder() {
        int[] order = new int[256];
        int n = 0;
        for (int b = 0; b < 256; b++) if (BYTE_TO_CHAR[b] == b) order[n++] = b;
        for (int b = 0; b < 256; b++) if (BYTE_TO_CHAR[b] != b) order[n++] = b;
        return order;
    }
}
