package dev.gpt4j.server;

import dev.gpt4j.tokenizer.BpeTokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Turns one sequence's tokens, as they come, into pieces of text to stream, such that the pieces always add up to a
 * prefix of the final text. Two things are held back: the end of a character whose UTF-8 bytes are split across tokens
 * (byte-level BPE; it decodes as U+FFFD until its last byte comes), and the last {@code L - 1} characters while stop
 * strings of up to {@code L} characters may still complete; nothing from a stop string on is ever sent (the
 * generation's text is cut before it).
 */
final class TextStream {
    private final BpeTokenizer tokenizer;
    private final List<String> stops;
    private final int holdBack;
    private int[] tokens = new int[16];
    private int count;
    private int sent; // characters of the decoded text already streamed

    TextStream(BpeTokenizer tokenizer, List<String> stopStrings) {
        this.tokenizer = tokenizer;
        this.stops = List.copyOf(stopStrings);
        this.holdBack = stopStrings.stream().mapToInt(String::length).max().orElse(1) - 1;
    }

    /** Adds a token; returns the text that may be streamed now (may be empty). */
    String push(int token) {
        if (count == tokens.length) tokens = Arrays.copyOf(tokens, 2 * count);
        tokens[count++] = token;
        String text = tokenizer.decode(Arrays.copyOf(tokens, count));
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '\uFFFD') end--;
        end -= holdBack;
        for (String stop : stops) { // the token that completes a stop string may carry it whole, and text after it
            int at = text.indexOf(stop);
            if (at >= 0) end = Math.min(end, at);
        }
        end = Math.max(sent, end);
        String piece = text.substring(sent, end);
        sent = end;
        return piece;
    }

    /** The rest of {@code finalText} after what was streamed (the generation's final text, cut before a stop string). */
    String finish(String finalText) {
        String rest = sent <= finalText.length() ? finalText.substring(sent) : "";
        sent = finalText.length();
        return rest;
    }
}
