package dev.gpt4j.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * WikiSQL in its official file format: {@code <split>.jsonl} (one question per line, {@code sql} with
 * {@code sel}, {@code agg}, {@code conds} by column index) and {@code <split>.tables.jsonl} (one table per line:
 * {@code id}, {@code header}, and in the full release {@code types} and {@code rows}).
 */
public final class WikiSql {
    private final Path dir;
    private final Map<String, Map<String, WikiSqlTable>> tablesBySplit = new HashMap<>();

    private WikiSql(Path dir) {
        this.dir = dir;
    }

    public static WikiSql open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new DataFileException(dir.toString(), "", "no such WikiSQL folder");
        }
        return new WikiSql(dir);
    }

    public Path dir() {
        return dir;
    }

    /** The tables of a split ({@code dev}, {@code train}, {@code test}), read once. */
    public synchronized Map<String, WikiSqlTable> tables(String split) {
        return tablesBySplit.computeIfAbsent(split, s -> readTables(dir.resolve(s + ".tables.jsonl")));
    }

    /** The examples of a split, in file order; see {@link #readExamples}. */
    public Loaded examples(String split) {
        return readExamples(dir.resolve(split + ".jsonl"), split, tables(split));
    }

    /** Examples read, and those skipped because their table is missing (each with file, line and reason). */
    public record Loaded(List<WikiSqlExample> examples, List<String> skipped) {}

    /** Reads a tables file. Errors name the file, line and field. */
    public static Map<String, WikiSqlTable> readTables(Path file) {
        Map<String, WikiSqlTable> out = new LinkedHashMap<>();
        String src = file.toString();
        forEachLine(file, (line, node) -> {
            String place = "line " + line;
            String id = Json.text(node, "id", src, place);
            JsonNode header = Json.array(node, "header", src, place);
            List<String> names = new ArrayList<>(header.size());
            for (JsonNode h : header) {
                names.add(h.asText());
            }
            List<String> types = new ArrayList<>();
            JsonNode t = node.get("types");
            if (t != null && !t.isNull()) {
                if (!t.isArray() || t.size() != names.size()) {
                    throw new DataFileException(src, place, "field \"types\" must be an array of " + names.size() + " types");
                }
                for (JsonNode x : t) {
                    types.add(x.asText().toLowerCase(java.util.Locale.ROOT));
                }
            }
            List<List<Object>> rows = new ArrayList<>();
            JsonNode r = node.get("rows");
            if (r != null && r.isArray()) {
                for (JsonNode row : r) {
                    List<Object> vals = new ArrayList<>(row.size());
                    for (JsonNode v : row) {
                        vals.add(v.isNumber() ? (Object) v.numberValue() : v.isNull() ? null : v.asText());
                    }
                    rows.add(vals);
                }
            }
            if (out.put(id, new WikiSqlTable(id, names, types, rows)) != null) {
                throw new DataFileException(src, place, "table id " + id + " appears twice");
            }
        });
        return out;
    }

    /**
     * Reads a questions file. A question whose table is not in {@code tables} is skipped and reported in
     * {@link Loaded#skipped()}; a malformed line is an error naming the file, line and field.
     */
    public static Loaded readExamples(Path file, String split, Map<String, WikiSqlTable> tables) {
        List<WikiSqlExample> out = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        String src = file.toString();
        forEachLine(file, (line, node) -> {
            String place = "line " + line;
            String tableId = Json.text(node, "table_id", src, place);
            String question = Json.text(node, "question", src, place);
            JsonNode sql = Json.field(node, "sql", src, place);
            int sel = Json.integer(sql, "sel", src, place + ", field sql");
            int agg = Json.integer(sql, "agg", src, place + ", field sql");
            JsonNode conds = Json.array(sql, "conds", src, place + ", field sql");
            WikiSqlTable table = tables.get(tableId);
            if (table == null) {
                skipped.add(src + ", " + place + ": table " + tableId + " is not in the tables file");
                return;
            }
            int width = table.header().size();
            if (sel < 0 || sel >= width) {
                throw new DataFileException(src, place, "field sql.sel = " + sel + " but table " + tableId + " has " + width + " columns");
            }
            List<LogicalForm.Condition> cs = new ArrayList<>();
            for (int i = 0; i < conds.size(); i++) {
                JsonNode c = conds.get(i);
                if (!c.isArray() || c.size() != 3 || !c.get(0).isIntegralNumber() || !c.get(1).isIntegralNumber()) {
                    throw new DataFileException(src, place, "field sql.conds[" + i + "] must be [column, op, value], got " + c);
                }
                int col = c.get(0).asInt();
                int op = c.get(1).asInt();
                if (col < 0 || col >= width) {
                    throw new DataFileException(src, place, "field sql.conds[" + i + "] names column " + col
                            + " but table " + tableId + " has " + width + " columns");
                }
                if (op < 0 || op > 2) {
                    throw new DataFileException(src, place, "field sql.conds[" + i + "] has operator " + op + " (0 =, 1 >, 2 <)");
                }
                JsonNode v = c.get(2);
                String value = v.isNumber() ? LogicalForm.pythonNumber(v) : v.asText();
                cs.add(new LogicalForm.Condition(col, op, value));
            }
            if (agg < 0 || agg >= LogicalForm.AGGREGATES.size()) {
                throw new DataFileException(src, place, "field sql.agg = " + agg + " is not in 0..5");
            }
            out.add(new WikiSqlExample(split, out.size(), line, tableId, question, new LogicalForm(sel, agg, cs)));
        });
        return new Loaded(out, skipped);
    }

    interface LineHandler {
        void accept(int line, JsonNode node);
    }

    static void forEachLine(Path file, LineHandler handler) {
        String src = file.toString();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            int line = 0;
            while ((text = r.readLine()) != null) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = Json.MAPPER.readTree(text);
                } catch (JsonProcessingException e) {
                    throw new DataFileException(src, "line " + line, "bad JSON: " + e.getOriginalMessage(), e);
                }
                if (!node.isObject()) {
                    throw new DataFileException(src, "line " + line, "expected a JSON object");
                }
                handler.accept(line, node);
            }
        } catch (IOException e) {
            throw new DataFileException(src, "", "cannot read: " + e, e);
        }
    }
}
