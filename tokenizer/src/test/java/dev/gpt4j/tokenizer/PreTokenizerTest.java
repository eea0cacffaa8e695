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
    /** GPT-2's pattern with \\p{L} and \\p{N} spelled out from the Unicode 16.0 tables, so no JDK version matters. */
    static final Pattern REFERENCE = Pattern.compile(PreTokenizer.GPT2_PATTERN
            .replace("\\p{L}", regexClass(UnicodeClasses.letterRanges()))
            .replace("\\p{N}", regexClass(UnicodeClasses.numberRanges())), Pattern.UNICODE_CHARACTER_CLASS);

    static String regexClass(int[] ranges) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ranges.length; i += 2) {
            sb.append(String.format("\\x{%x}-\\x{%x}", ranges[i], ranges[i + 1]));
        }
        return sb.append(']').toString();
    }

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
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            String s = new String(Character.toChars(cp));
            assertEquals(s.matches("(?U)\\s"), PreTokenizer.isWhitespace(cp), "U+" + Integer.toHexString(cp));
        }
    }

    @Test
    void unicode16LettersAndNumbersWhateverTheJdk() {
        assertTrue(UnicodeClasses.isLetter(0x0889), "U+0889 ARABIC LETTER (Unicode 14)");
        assertTrue(UnicodeClasses.isLetter(0x1E5D0), "U+1E5D0 OL ONAL (Unicode 16)");
        assertFalse(UnicodeClasses.isLetter(0x10940), "U+10940 SIDETIC (Unicode 17): not yet a letter to tiktoken");
        assertTrue(UnicodeClasses.isNumber('7') && UnicodeClasses.isNumber(0x2162) && UnicodeClasses.isNumber(0xBD));
        assertFalse(UnicodeClasses.isLetter('7') || UnicodeClasses.isNumber('x') || UnicodeClasses.isLetter(0x0301));
        // Where JDK 17 and Unicode 16 both define a character, they agree on letters and numbers but for a few
        // re-categorised ones; count them so that a broken table (e.g. an off-by-one range) shows up here.
        int disagree = 0;
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (!Character.isDefined(cp)) continue;
            int t = Character.getType(cp);
            boolean jdkNumber = t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
            if (Character.isLetter(cp) != UnicodeClasses.isLetter(cp) || jdkNumber != UnicodeClasses.isNumber(cp)) disagree++;
        }
        assertTrue(disagree < 20, disagree + " characters differ");
    }
}
