package dev.gpt4j.tokenizer;

import java.util.Random;

/** Random valid Unicode strings weighted toward what trips tokenizers up. */
final class RandomText {
    private RandomText() {}

    private static final String[] PIECES = {
        " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085", "'", "'s", "'ll", "'RE", "'ve",
        "<|endoftext|>", "<|", "|>", "SELECT", "select", " FROM", "\"name\"", "a", "Z", "é", "e\u0301", "ß",
        "漢", "字", "カ", "한", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "𝔘", "0", "42", "3.14", "Ⅻ", "½", "٣", "!", "?!",
        ";", "--", "/*", "*/", "=", "<>", "(", ")", ",", ".", "\u200d", "\ufeff", "\u0000", "\u001f", "ʼ", "’",
    };

    static String next(Random rnd, int parts) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts; i++) {
            int kind = rnd.nextInt(10);
            if (kind < 6) {
                sb.append(PIECES[rnd.nextInt(PIECES.length)]);
            } else if (kind < 8) {
                sb.append((char) (0x20 + rnd.nextInt(0x5F)));
            } else {
                int cp;
                do {
                    cp = rnd.nextInt(9) == 0 ? 0x10000 + rnd.nextInt(0x10000) : rnd.nextInt(0xD000);
                } while (!Character.isDefined(cp) || Character.getType(cp) == Character.SURROGATE);
                sb.appendCodePoint(cp);
            }
        }
        return sb.toString();
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) sb.appendCodePoint(cp);
            else sb.append(String.format("\\u{%x}", cp));
        });
        return sb.append('"').toString();
    }
}
