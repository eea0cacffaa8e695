package dev.gpt4j.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Spider 1.0 in its official layout: {@code tables.json}, {@code train_spider.json}, {@code train_others.json},
 * {@code dev.json}, and {@code database/<db_id>/<db_id>.sqlite}. Examples may carry all official fields or
 * only {@code question}, {@code query} and {@code db_id}.
 */
public final class Spider {
    private final Path dir;
    private final Map<String, Schema> schemas;

    private Spider(Path dir, Map<String, Schema> schemas) {
        this.dir = dir;
        this.schemas = schemas;
    }

    /** Opens the Spider folder (reads {@code tables.json}). */
    public static Spider open(Path dir) {
        Path tables = dir.resolve("tables.json");
        if (!Files.isRegularFile(tables)) {
            throw new DataFileException(tables.toString(), "", "no such file (is " + dir + " a Spider folder?)");
        }
        return new Spider(dir, readSchemas(tables));
    }

    public Path dir() {
        return dir;
    }

    /** Schemas by db_id, in file order. */
    public Map<String, Schema> schemas() {
        return schemas;
    }

    /** The schema of a database; an error names the id when it is unknown. */
    public Schema schema(String dbId) {
        Schema s = schemas.get(dbId);
        if (s == null) {
            throw new IllegalArgumentException("unknown Spider database " + dbId + " (not in " + dir.resolve("tables.json") + ")");
        }
        return s;
    }

    /** Where the database file of {@code dbId} is (it may be missing: see {@link #hasDatabase}). */
    public Path databasePath(String dbId) {
        return dir.resolve("database").resolve(dbId).resolve(dbId + ".sqlite");
    }

    public boolean hasDatabase(String dbId) {
        return Files.isRegularFile(databasePath(dbId));
    }

    /**
     * The examples of a split: {@code dev}, {@code train} (train_spider then train_others), {@code train_spider}
     * or {@code train_others}.
     */
    public List<SpiderExample> examples(String split) {
        switch (split) {
            case "dev":
                return readExamples(dir.resolve("dev.json"), "dev", schemas);
            case "train_spider":
            case "train_others":
                return readExamples(dir.resolve(split + ".json"), split, schemas);
            case "train": {
                List<SpiderExample> all = new ArrayList<>(readExamples(dir.resolve("train_spider.json"), "train", schemas));
                for (SpiderExample e : readExamples(dir.resolve("train_others.json"), "train", schemas)) {
                    all.add(new SpiderExample("train", all.size(), e.dbId(), e.question(), e.query(), e.hardness()));
                }
                return all;
            }
            default:
                throw new IllegalArgumentException("unknown Spider split " + split + " (dev, train, train_spider, train_others)");
        }
    }

    /** Reads {@code tables.json}: one schema per entry, with original (database) table and column names. */
    public static Map<String, Schema> readSchemas(Path file) {
        JsonNode root = readJson(file);
        String src = file.toString();
        if (!root.isArray()) {
            throw new DataFileException(src, "", "expected a JSON array of databases");
        }
        Map<String, Schema> out = new LinkedHashMap<>();
        for (int e = 0; e < root.size(); e++) {
            JsonNode db = root.get(e);
            String place = "entry " + e;
            String dbId = Json.text(db, "db_id", src, place);
            place = "entry " + e + " (db_id " + dbId + ")";
            JsonNode tableNames = Json.array(db, "table_names_original", src, place);
            JsonNode columnNames = Json.array(db, "column_names_original", src, place);
            JsonNode types = Json.array(db, "column_types", src, place);
            if (types.size() != columnNames.size()) {
                throw new DataFileException(src, place, "field \"column_types\" has " + types.size()
                        + " entries but \"column_names_original\" has " + columnNames.size());
            }
            List<List<Column>> cols = new ArrayList<>();
            for (int t = 0; t < tableNames.size(); t++) {
                cols.add(new ArrayList<>());
            }
            int[] tableOf = new int[columnNames.size()];
            for (int c = 0; c < columnNames.size(); c++) {
                JsonNode pair = columnNames.get(c);
                int t = pair.get(0).asInt();
                tableOf[c] = t;
                if (t < 0) {
                    continue; // the "*" column
                }
                if (t >= tableNames.size()) {
                    throw new DataFileException(src, place, "field \"column_names_original\"[" + c + "] names table " + t
                            + " but there are " + tableNames.size() + " tables");
                }
                cols.get(t).add(new Column(pair.get(1).asText(), types.get(c).asText()));
            }
            List<List<String>> pks = new ArrayList<>();
            for (int t = 0; t < tableNames.size(); t++) {
                pks.add(new ArrayList<>());
            }
            JsonNode pkNode = db.get("primary_keys");
            if (pkNode != null) {
                for (JsonNode k : pkNode) {
                    // newer releases write composite keys as a list of column indices
                    for (JsonNode c : k.isArray() ? k : List.of(k)) {
                        int ci = checkColumn(c, columnNames, src, place, "primary_keys");
                        pks.get(tableOf[ci]).add(columnNames.get(ci).get(1).asText());
                    }
                }
            }
            List<Table> tables = new ArrayList<>();
            for (int t = 0; t < tableNames.size(); t++) {
                tables.add(new Table(tableNames.get(t).asText(), cols.get(t), pks.get(t)));
            }
            List<ForeignKey> fks = new ArrayList<>();
            JsonNode fkNode = db.get("foreign_keys");
            if (fkNode != null) {
                for (JsonNode fk : fkNode) {
                    int from = checkColumn(fk.get(0), columnNames, src, place, "foreign_keys");
                    int to = checkColumn(fk.get(1), columnNames, src, place, "foreign_keys");
                    fks.add(new ForeignKey(tableNames.get(tableOf[from]).asText(), columnNames.get(from).get(1).asText(),
                            tableNames.get(tableOf[to]).asText(), columnNames.get(to).get(1).asText()));
                }
            }
            try {
                out.put(dbId, new Schema(dbId, tables, fks));
            } catch (IllegalArgumentException ex) {
                throw new DataFileException(src, place, ex.getMessage());
            }
        }
        return out;
    }

    private static int checkColumn(JsonNode c, JsonNode columnNames, String src, String place, String field) {
        if (c == null || !c.isInt() || c.asInt() <= 0 || c.asInt() >= columnNames.size()) {
            throw new DataFileException(src, place, "field \"" + field + "\" has a bad column index " + c);
        }
        return c.asInt();
    }

    /** Reads one examples file; {@code schemas} (may be null) is used to check each db_id. */
    public static List<SpiderExample> readExamples(Path file, String split, Map<String, Schema> schemas) {
        JsonNode root = readJson(file);
        String src = file.toString();
        if (!root.isArray()) {
            throw new DataFileException(src, "", "expected a JSON array of examples");
        }
        List<SpiderExample> out = new ArrayList<>(root.size());
        for (int e = 0; e < root.size(); e++) {
            JsonNode ex = root.get(e);
            String place = "entry " + e;
            String dbId = Json.text(ex, "db_id", src, place);
            String question = Json.text(ex, "question", src, place);
            String query = Json.text(ex, "query", src, place);
            if (schemas != null && !schemas.containsKey(dbId)) {
                throw new DataFileException(src, place, "field \"db_id\": database " + dbId + " is not in tables.json");
            }
            Hardness h = null;
            JsonNode sql = ex.get("sql");
            if (sql != null && sql.isObject()) {
                try {
                    h = Hardness.of(sql);
                } catch (RuntimeException bad) {
                    throw new DataFileException(src, place, "field \"sql\" is not a parsed Spider query: " + bad, bad);
                }
            }
            out.add(new SpiderExample(split, e, dbId, question, query, h));
        }
        return out;
    }

    static JsonNode readJson(Path file) {
        try {
            return Json.MAPPER.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new DataFileException(file.toString(), where, "bad JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new DataFileException(file.toString(), "", "cannot read: " + e, e);
        }
    }
}
