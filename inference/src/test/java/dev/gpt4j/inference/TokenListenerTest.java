package dev.gpt4j.inference;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.tokenizer.BpeTokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TokenListenerTest {

    /**
     * Three prompts in batches of two: the listener hears, for each sequence by its index in the list, exactly the
     * tokens of its generation, in order, and never the stop token; and it hears them as they come (the first token of
     * the first sequence before its last), not all at the end.
     */
    @Test
    void hearsEachSequencesTokensInOrderAsTheyAreTaken() {
        BpeTokenizer tok = Fixtures.tokenizer();
        try (GptModel m = Fixtures.model(64, 4)) {
            Generator gen = new Generator(m, tok);
            List<int[]> prompts = new ArrayList<>();
            for (String p : List.of("SELECT", "How many singers are there?", "SELECT name FROM singer WHERE")) prompts.add(tok.encode(p));
            List<List<Integer>> heard = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            List<Integer> order = new ArrayList<>();
            int stop = gen.generate(prompts.get(1), GenerationOptions.greedy(8)).tokens()[5]; // sequence 1 stops here
            List<Generation> gens = gen.generate(prompts, GenerationOptions.greedy(8), null, 2, (seq, t) -> {
                heard.get(seq).add(t);
                order.add(seq);
            }, stop);
            for (int i = 0; i < prompts.size(); i++) {
                int[] expected = gens.get(i).tokens();
                assertEquals(expected.length, heard.get(i).size(), "sequence " + i);
                for (int k = 0; k < expected.length; k++) assertEquals(expected[k], heard.get(i).get(k), "sequence " + i + " token " + k);
            }
            assertEquals(Generation.StopReason.STOP_TOKEN, gens.get(1).stopReason());
            assertFalse(heard.get(1).contains(stop), "the stop token is not part of the generation");
            // sequences 0 and 1 are decoded together: their tokens interleave
            assertEquals(List.of(0, 1), order.subList(0, 2));
        }
    }
}
