package dev.gpt4j.tokenizer;

/**
 * GPT-2's pre-tokenization: splits text into the pieces that BPE then encodes one by one. It is a
 * hand-written scanner with exactly the semantics of GPT-2's (and tiktoken's) pattern
 * <pre>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 * where {@code \s} is Unicode White_Space, as in Rust's and Python's regex engines (Java's default
 * {@code \s} is ASCII only), and {@code \p{L}} and {@code \p{N}} are taken from Unicode 16.0, the version
 * tiktoken's engine uses, whatever the JDK's own Unicode version (JDK 17 has 13.0). The tests check it
 * against that regex on random strings; the scanner is several times faster than {@link java.util.regex}.
 */
public final class PreTokenizer {

    /** Receives each piece as a [start, end) range of the text. */
    @FunctionalInterface
    public interface PieceSink {
        void accept(int start, int end);
    }

    /** The reference pattern (use with {@link java.util.regex.Pattern#UNICODE_CHARACTER_CLASS}). */
    public static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private PreTokenizer() {}

    /** Splits {@code text[start, end)} into pieces, in order, covering the range without gaps. */
    public static void split(CharSequence text, int start, int end, PieceSink sink) {
        int i = start;
        while (i < end) {
            int c = Character.codePointAt(text, i);
            int next = i + Character.charCount(c);
            int pieceEnd;
            if (c == '\'' && (pieceEnd = contraction(text, next, end)) > 0) {
                // 's 't 'm 'd 're 've 'll
            } else {
                int d = next < end ? Character.codePointAt(text, next) : -1;
                // " ?X+" where the optional space belongs to the piece when a run of class X follows it.
                int runStart = i;
                int cls = classOf(c);
                if (c == ' ' && d >= 0 && classOf(d) != WHITESPACE) {
                    runStart = next;
                    cls = classOf(d);
                }
                if (cls != WHITESPACE) {
                    pieceEnd = runEnd(text, runStart, end, cls);
                } else {
                    // \s+(?!\S) then \s+ : a whitespace run, leaving its last character to the next piece
                    // when a non-space follows and the run is longer than one character.
                    int runEnd = i;
                    int last = i;
                    while (runEnd < end) {
                        int e = Character.codePointAt(text, runEnd);
                        if (!isWhitespace(e)) break;
                        last = runEnd;
                        runEnd += Character.charCount(e);
                    }
                    pieceEnd = (runEnd < end && last > i) ? last : runEnd;
                }
            }
            sink.accept(i, pieceEnd);
            i = pieceEnd;
        }
    }

    private static final int LETTER = 0, NUMBER = 1, OTHER = 2, WHITESPACE = 3;

    /** Classes of the ASCII characters, the common case. */
    private static final byte[] ASCII = new byte[128];

    static {
        for (int c = 0; c < 128; c++) {
            ASCII[c] = (byte) (isWhitespace(c) ? WHITESPACE
                    : (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ? LETTER
                    : (c >= '0' && c <= '9') ? NUMBER : OTHER);
        }
    }

    private static int classOf(int cp) {
        if (cp < 128) return ASCII[cp];
        if (isWhitespace(cp)) return WHITESPACE;
        if (UnicodeClasses.isLetter(cp)) return LETTER;
        if (UnicodeClasses.isNumber(cp)) return NUMBER;
        return OTHER;
    }

    private static int runEnd(CharSequence text, int i, int end, int cls) {
        while (i < end) {
            int cp = Character.codePointAt(text, i);
            if (classOf(cp) != cls) break;
            i += Character.charCount(cp);
        }
        return i;
    }

    /** End of a contraction whose apostrophe ends just before {@code i}, or -1. Case-sensitive, like GPT-2. */
    private static int contraction(CharSequence text, int i, int end) {
        if (i >= end) return -1;
        char a = text.charAt(i);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 1;
        if (i + 1 < end) {
            char b = text.charAt(i + 1);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 2;
        }
        return -1;
    }

    /** Unicode's White_Space property (what {@code \s} means in Unicode-aware regex engines). */
    static boolean isWhitespace(int cp) {
        if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
        if (cp < 0x85) return false;
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
                || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

}
