package dev.gpt4j.benchmarks;

import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Writes each database of a Spider split as {@code OUT/<db_id>.sql} (CREATE TABLE statements from tables.json), so that
 * {@code gpt4j adapt --schema OUT/<db_id>.sql --db <db_id>.sqlite} learns the schema exactly as the evaluation's prompts
 * show it (checked: the DDL read back has the same {@link PromptFormat#schemaHash}). Only the schemas are written: no
 * question, no SQL.
 *
 * <pre>java -cp benchmarks.jar dev.gpt4j.benchmarks.SpiderSchemas SPIDER_DIR SPLIT OUT</pre>
 */
public final class SpiderSchemas {
    private SpiderSchemas() {}

    public static void main(String[] args) throws Exception {
        Spider spider = Spider.open(Path.of(args[0]));
        Path out = Path.of(args[2]);
        Files.createDirectories(out);
        Set<String> dbs = new LinkedHashSet<>();
        for (SpiderExample e : spider.examples(args[1])) dbs.add(e.dbId());
        for (String db : dbs) {
            Schema s = spider.schema(db);
            Path f = out.resolve(db + ".sql");
            Files.writeString(f, "-- " + db + ": Spider's tables.json schema as DDL (types in Spider's words)\n" + s.toDdl(), StandardCharsets.UTF_8);
            Schema back = DdlSchemas.read(f);
            boolean same = PromptFormat.schemaHash(back).equals(PromptFormat.schemaHash(s));
            System.out.println(db + (spider.hasDatabase(db) ? "" : " (no SQLite file)") + (same ? "" : "  SCHEMA DIFFERS after the round trip"));
        }
    }
}
