package dev.gpt4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A predictions file as the official evaluators take it: one SQL query per line, in the split's order. An
 * empty line is an empty (wrong) prediction. A line {@code query<TAB>db_id} (the gold files' format) is
 * accepted when the db_id is the question's, so a gold file can be scored against itself.
 */
public final class Predictions {
    private Predictions() {}

    /**
     * Reads {@code file}, which must have exactly {@code dbIds.size()} lines ({@code dbIds} gives each
     * question's database, or null entries where there is none).
     */
    public static List<String> read(Path file, List<String> dbIds) {
        List<String> lines;
        try {
            lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new DataFileException(file.toString(), "", "cannot read predictions: " + e, e);
        }
        if (lines.size() != dbIds.size()) {
            throw new DataFileException(file.toString(), "", "has " + lines.size() + " lines but the split has "
                    + dbIds.size() + " questions (one prediction per line, in the split's order)");
        }
        List<String> out = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int tab = line.lastIndexOf('\t');
            if (tab >= 0 && dbIds.get(i) != null && line.substring(tab + 1).strip().equals(dbIds.get(i))) {
                line = line.substring(0, tab);
            }
            out.add(line.strip());
        }
        return out;
    }
}
