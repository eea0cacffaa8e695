package dev.gpt4j.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The hand-written scanner against the GPT-2 pattern run by java.util.regex with Unicode classes. */
class PreTokenizerTest {
    static final Pattern REFERENCE = Pattern.compile(PreTokenizer.GPT2_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);

    static List<String> reference(String s) {
        List<String> out = new ArrayList<>();
        Matcher m = REFERENCE.matcher(s);
        int last = 0;
        while (m.find()) {
            assertEquals(last, m.start(), "the pattern covers the text without gaps");
            out.add(m.group());
            last = m.end();
        }
        return out;
    }

    static List<String> scanner(String s) {
        List<String> out = new ArrayList<>();
        PreTokenizer.split(s, 0, s.length(), (a, b) -> out.add(s.substring(a, b)));
        return out;
    }

    @Test
    void examples() {
        assertEquals(List.of("Hello", ",", " world", "!"), scanner("Hello, world!"));
        assertEquals(List.of("I", "'m", " here", "'s"), scanner("I'm here's"));
        assertEquals(List.of("a", "  ", " b"), scanner("a   b"));
        assertEquals(List.of("\t", "\t", "x", "  "), scanner("\t\tx  "));
        assertEquals(List.of(" 123", " +=", "\u00a0", "\u3000", "漢字"), scanner(" 123 +=\u00a0\u3000漢字"));
    }

    @Test
    void sameAsRegexOnRandomStrings() {
        Random rnd = new Random(42);
        for (int t = 0; t < 20_000; t++) {
            String s = RandomText.next(rnd, 1 + rnd.nextInt(40));
            assertEquals(reference(s), scanner(s), () -> "for " + RandomText.escape(s));
        }
    }

    @Test
    void whitespaceAgreesWithUnicodeWhiteSpace() {
        for (int cp = 0; cp < 0x3100; cp++) {
            String s = new String(Character.toChars(cp));
            assertEquals(s.matches("(?U)\\s"), PreTokenizer.isWhitespace(cp), "U+" + Integer.toHexString(cp));
            assertEquals(s.matches("\\p{N}"), PreTokenizer.isNumber(cp), "U+" + Integer.toHexString(cp));
        }
    }
}
