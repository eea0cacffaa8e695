package dev.gpt4j.tokenizer;

/**
 * GPT-2's pre-tokenization: splits text into the pieces that BPE then encodes one by one. It is a
 * hand-written scanner with exactly the semantics of GPT-2's (and tiktoken's) pattern
 * <pre>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 * where {@code \s} is Unicode White_Space, as in Rust's and Python's regex engines (Java's default
 * {@code \s} is ASCII only). The tests check it against that regex on random strings; the scanner is
 * several times faster than {@link java.util.regex}.
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

    private static int classOf(int cp) {
        if (isWhitespace(cp)) return WHITESPACE;
        if (Character.isLetter(cp)) return LETTER;
        if (isNumber(cp)) return NUMBER;
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

    /** {@code \p{N}}: decimal digits, letter numbers and other numbers. */
    static boolean isNumber(int cp) {
        if (cp < 0x80) return cp >= '0' && cp <= '9';
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }
}
