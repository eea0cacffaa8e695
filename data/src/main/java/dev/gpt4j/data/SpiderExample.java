package dev.gpt4j.data;

/**
 * One Spider question: its split and position in the split's file (0-based, the order predictions follow), the
 * database, the question, the gold SQL, and its hardness (null when the file has no parsed {@code sql}, as in
 * the reduced train files).
 */
public record SpiderExample(String split, int index, String dbId, String question, String query, Hardness hardness) {
    @Override
    public String toString() {
        return split + "#" + index + " [" + dbId + "] " + question + " -> " + query;
    }
}
