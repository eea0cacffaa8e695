package dev.gpt4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Training material built from the data folder ({@code ../shared/data} layout: {@code spider/}, {@code wikisql/},
 * {@code text/the-verdict.txt}), from <b>training splits only</b>: Spider's dev and WikiSQL's dev never enter.
 *
 * <ul>
 *   <li>{@link #pretrainingDocuments}: unlabeled documents for next-token pretraining: the-verdict.txt, each
 *       Spider training database's schema as DDL, each WikiSQL training table's schema, and every training
 *       question with its SQL.</li>
 *   <li>{@link #fineTuning}: labelled pairs from WikiSQL train and Spider train (train_spider + train_others).</li>
 *   <li>{@link #isValidation}: a deterministic validation split by group (table or database), since neither
 *       training set comes with one; Spider dev is the test we report.</li>
 * </ul>
 */
public final class Corpora {
    private Corpora() {}

    /** Documents for pretraining, in a fixed order (callers shuffle with their own seed). */
    public static List<String> pretrainingDocuments(Path dataDir) {
        List<String> docs = new ArrayList<>();
        Path verdict = dataDir.resolve("text").resolve("the-verdict.txt");
        if (Files.isRegularFile(verdict)) {
            try {
                docs.add(Files.readString(verdict, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new DataFileException(verdict.toString(), "", "cannot read: " + e, e);
            }
        }
        List<TextToSqlExample> pairs = fineTuning(dataDir);
        Set<String> schemasSeen = new LinkedHashSet<>();
        for (TextToSqlExample e : pairs) {
            if (schemasSeen.add(e.source() + "/" + e.group())) {
                docs.add(e.schema().toDdl());
            }
            docs.add(e.question().strip() + "\n" + SqlText.normalizeSpace(e.sql()));
        }
        return docs;
    }

    /** WikiSQL train then Spider train, each in file order; questions whose table is missing are left out. */
    public static List<TextToSqlExample> fineTuning(Path dataDir) {
        List<TextToSqlExample> out = new ArrayList<>();
        Path wikiDir = dataDir.resolve("wikisql");
        if (Files.isRegularFile(wikiDir.resolve("train.jsonl"))) {
            WikiSql w = WikiSql.open(wikiDir);
            Map<String, WikiSqlTable> tables = w.tables("train");
            Map<String, Schema> schemas = new HashMap<>();
            for (WikiSqlExample ex : w.examples("train").examples()) {
                WikiSqlTable t = tables.get(ex.tableId());
                Schema s = schemas.computeIfAbsent(t.id(), k -> t.schema());
                out.add(new TextToSqlExample("wikisql", t.id(), s, ex.question(), ex.sql().toSql(t)));
            }
        }
        Path spiderDir = dataDir.resolve("spider");
        if (Files.isRegularFile(spiderDir.resolve("train_spider.json"))) {
            Spider s = Spider.open(spiderDir);
            for (SpiderExample ex : s.examples("train")) {
                out.add(new TextToSqlExample("spider", ex.dbId(), s.schema(ex.dbId()), ex.question(), SqlText.normalizeSpace(ex.query())));
            }
        }
        if (out.isEmpty()) {
            throw new DataFileException(dataDir.toString(), "", "no training data: expected wikisql/train.jsonl or spider/train_spider.json");
        }
        return out;
    }

    /**
     * Synthetic pairs on the databases of Spider's training split ({@link SchemaDrills}); none without
     * {@code spider/train_spider.json}.
     */
    public static List<TextToSqlExample> schemaDrills(Path dataDir) {
        return schemaDrills(dataDir, false);
    }

    /** As {@link #schemaDrills(Path)}; the compound drills ({@link SchemaDrills#COMPOUND}) if {@code compound}. */
    public static List<TextToSqlExample> schemaDrills(Path dataDir, boolean compound) {
        Path spiderDir = dataDir.resolve("spider");
        if (!Files.isRegularFile(spiderDir.resolve("train_spider.json"))) return List.of();
        return SchemaDrills.fromSpiderTrain(Spider.open(spiderDir), compound);
    }

    /**
     * Whether a group (WikiSQL table id or Spider db_id) belongs to the validation split: a stable hash of
     * {@code source/group} modulo 100 is below {@code percent}. Whole tables and databases stay on one side, so
     * validation measures generalization to unseen schemas, as the dev sets do. Drills ({@link SchemaDrills}) are
     * split as Spider is, so a database's drills and its Spider questions are on the same side.
     */
    public static boolean isValidation(String source, String group, int percent) {
        String side = SchemaDrills.isDrills(source) ? "spider" : source;
        CRC32 crc = new CRC32();
        crc.update((side + "/" + group).getBytes(StandardCharsets.UTF_8));
        return crc.getValue() % 100 < percent;
    }
}
