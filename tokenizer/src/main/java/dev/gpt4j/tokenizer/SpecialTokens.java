package dev.gpt4j.tokenizer;

/** What {@link BpeTokenizer#encode(String, SpecialTokens)} does with special-token text found in its input. */
public enum SpecialTokens {
    /** Encode it as the special token (what tiktoken does with all special tokens allowed). */
    ALLOW,
    /** Throw an {@link IllegalArgumentException} naming the token and its position. */
    REFUSE,
    /** Encode it as ordinary text, byte by byte, like any other characters (safe for untrusted input). */
    PLAIN_TEXT
}
