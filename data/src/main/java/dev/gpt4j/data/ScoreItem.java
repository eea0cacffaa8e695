package dev.gpt4j.data;

import java.util.Map;

/**
 * The score of one prediction: position in the split, question, gold and predicted SQL, whether it is
 * correct, the per-part verdicts (WikiSQL: select, agg, where; Spider: none), the hardness level (Spider), and
 * why it failed when it did (refusal, SQL error, time-out, parse error, different result).
 */
public record ScoreItem(int index, String db, String question, String gold, String predicted, boolean correct,
                        Map<String, Boolean> parts, String level, String error) {
    public ScoreItem {
        parts = parts == null ? Map.of() : Map.copyOf(parts);
    }
}
