package dev.gpt4j.inference;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;

import java.util.ArrayList;
import java.util.List;

/** A small tokenizer learnt from SQL-ish text, and untrained models sized for it. */
final class Fixtures {
    private Fixtures() {}

    /** The text-to-SQL prompt's special tokens (the sql module's tests use the same tokenizer). */
    static final List<String> SPECIAL_TOKENS = List.of(BpeTokenizer.END_OF_TEXT, "<|schema|>", "<|question|>", "<|sql|>");

    private static BpeTokenizer tokenizer;

    static synchronized BpeTokenizer tokenizer() {
        if (tokenizer == null) {
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                texts.add("SELECT count(*) FROM singer WHERE age > " + i + " ;");
                texts.add("SELECT name , country FROM singer ORDER BY age DESC");
                texts.add("SELECT T1.concert_name FROM concert AS T1 JOIN singer AS T2 ON T1.singer_id = T2.singer_id");
                texts.add("How many singers are there? What are the names of singers older than " + i + "?");
            }
            tokenizer = new BpeTrainer(400, SPECIAL_TOKENS).train(texts);
        }
        return tokenizer;
    }

    static GptModel model(int contextLength, long seed) {
        GptConfig cfg = new GptConfig(tokenizer().vocabSize(), contextLength, 32, 2, 4, 0.0, 1e-5, true, true);
        GptModel m = GptModel.create(cfg, seed);
        m.params().values().muli(3.0); // spread the logits, so that greedy choices are clear-cut
        return m.eval();
    }
}
