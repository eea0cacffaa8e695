package dev.gpt4j.sql;

import dev.gpt4j.data.Schema;
import dev.gpt4j.data.ScoreReport;
import dev.gpt4j.data.SqlExecutionException;
import dev.gpt4j.data.SqliteDatabase;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import dev.gpt4j.data.SpiderScorer;
import dev.gpt4j.data.WikiSql;
import dev.gpt4j.data.WikiSqlExample;
import dev.gpt4j.data.WikiSqlScorer;
import dev.gpt4j.data.WikiSqlTable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * Scores a text-to-SQL model on a data set split with the data module's scorers: Spider by execution on the
 * SQLite databases, WikiSQL by logical form. Questions are answered in batches; {@code limit} takes the first
 * N questions of the split (0 = all). {@code progress} hears the number answered so far (may be null).
 *
 * <p>Execution-guided ({@code guided}): each answer is run, read-only with a 2 s time-out, on the question's
 * database (Spider's SQLite file; a WikiSQL table's rows, when the tables file has them). If it fails or finds no
 * value, the first of the beam's {@link TextToSql#candidates} that finds one replaces it
 * ({@link TextToSql#ask(Schema, String, java.util.function.Predicate)}). Only the prediction is chosen this way:
 * the scoring is the same as without.
 */
public final class Evaluator {
    private Evaluator() {}

    public static ScoreReport spider(TextToSql model, Spider spider, List<SpiderExample> examples, String split, IntConsumer progress) {
        return spider(model, spider, examples, split, false, progress);
    }

    public static ScoreReport spider(TextToSql model, Spider spider, List<SpiderExample> examples, String split, boolean guided,
                                     IntConsumer progress) {
        List<SpiderExample> ex = new ArrayList<>();
        List<Schema> schemas = new ArrayList<>();
        List<String> questions = new ArrayList<>();
        for (SpiderExample e : examples) {
            if (!spider.hasDatabase(e.dbId())) continue; // the scorer lists it as skipped
            ex.add(e);
            schemas.add(spider.schema(e.dbId()));
            questions.add(e.question());
        }
        List<String> answers;
        if (guided) {
            answers = guided(model, schemas, questions, i -> ex.get(i).dbId(),
                    id -> SqliteDatabase.open(spider.databasePath(id), GUIDE_TIMEOUT, 1), progress);
        } else {
            answers = answer(model, schemas, questions, progress);
        }
        List<String> preds = new ArrayList<>(examples.size());
        int k = 0;
        for (SpiderExample e : examples) preds.add(spider.hasDatabase(e.dbId()) ? answers.get(k++) : "");
        return new SpiderScorer(spider).score(split, examples, preds);
    }

    /**
     * As {@link #spider(TextToSql, Spider, List, String, IntConsumer)}, each database's questions answered with its own
     * adapter ({@code adapterOf.apply(dbId)}, a folder {@code gpt4j adapt} wrote; null: the model alone), the
     * databases one after another. The model's own weights are untouched, so a database without an adapter is answered
     * exactly as without this option.
     */
    public static ScoreReport spider(TextToSql model, Spider spider, List<SpiderExample> examples, String split,
                                     Function<String, java.nio.file.Path> adapterOf, IntConsumer progress) {
        List<SpiderExample> ex = new ArrayList<>();
        for (SpiderExample e : examples) if (spider.hasDatabase(e.dbId())) ex.add(e); // the scorer lists the rest as skipped
        List<String> answers = perGroup(model, ex.size(), i -> ex.get(i).dbId(), i -> spider.schema(ex.get(i).dbId()), i -> ex.get(i).question(),
                adapterOf, progress);
        List<String> preds = new ArrayList<>(examples.size());
        int k = 0;
        for (SpiderExample e : examples) preds.add(spider.hasDatabase(e.dbId()) ? answers.get(k++) : "");
        return new SpiderScorer(spider).score(split, examples, preds);
    }

    /** As {@link #spider(TextToSql, Spider, List, String, Function, IntConsumer)} for WikiSQL, one adapter per table id. */
    public static ScoreReport wikiSql(TextToSql model, WikiSql wiki, String split, List<WikiSqlExample> examples, List<String> skipped,
                                      Function<String, java.nio.file.Path> adapterOf, IntConsumer progress) {
        Map<String, WikiSqlTable> tables = wiki.tables(split);
        List<String> preds = perGroup(model, examples.size(), i -> examples.get(i).tableId(), i -> tables.get(examples.get(i).tableId()).schema(),
                i -> examples.get(i).question(), adapterOf, progress);
        return WikiSqlScorer.score(split, examples, tables, preds, skipped);
    }

    /**
     * Answers n questions grouped by {@code groupOf} (database or table), each group with its adapter active, in the
     * order groups first occur; the answers come back in question order. The adapter is unset at the end.
     */
    private static List<String> perGroup(TextToSql model, int n, IntFunction<String> groupOf, IntFunction<Schema> schemaOf, IntFunction<String> questionOf,
                                         Function<String, java.nio.file.Path> adapterOf, IntConsumer progress) {
        Map<String, List<Integer>> groups = new java.util.LinkedHashMap<>();
        for (int i = 0; i < n; i++) groups.computeIfAbsent(groupOf.apply(i), g -> new ArrayList<>()).add(i);
        String[] out = new String[n];
        int[] done = {0};
        try {
            for (Map.Entry<String, List<Integer>> g : groups.entrySet()) {
                model.useAdapter(adapterOf.apply(g.getKey()));
                List<Schema> schemas = new ArrayList<>();
                List<String> questions = new ArrayList<>();
                for (int i : g.getValue()) {
                    schemas.add(schemaOf.apply(i));
                    questions.add(questionOf.apply(i));
                }
                int before = done[0];
                List<String> a = answer(model, schemas, questions, progress == null ? null : k -> progress.accept(before + k));
                for (int k = 0; k < a.size(); k++) out[g.getValue().get(k)] = a.get(k);
                done[0] += a.size();
            }
        } finally {
            model.useAdapter(null);
        }
        return List.of(out);
    }

    public static ScoreReport wikiSql(TextToSql model, WikiSql wiki, String split, List<WikiSqlExample> examples, List<String> skipped,
                                      IntConsumer progress) {
        return wikiSql(model, wiki, split, examples, skipped, false, progress);
    }

    /**
     * With {@code guided}, the tables need rows (the official tables files have them); without rows a question's
     * answer is its best candidate.
     */
    public static ScoreReport wikiSql(TextToSql model, WikiSql wiki, String split, List<WikiSqlExample> examples, List<String> skipped,
                                      boolean guided, IntConsumer progress) {
        Map<String, WikiSqlTable> tables = wiki.tables(split);
        List<Schema> schemas = new ArrayList<>();
        List<String> questions = new ArrayList<>();
        for (WikiSqlExample e : examples) {
            schemas.add(tables.get(e.tableId()).schema());
            questions.add(e.question());
        }
        List<String> preds;
        if (guided) {
            preds = guided(model, schemas, questions, i -> tables.get(examples.get(i).tableId()).types().isEmpty() ? null : examples.get(i).tableId(),
                    id -> tables.get(id).database(GUIDE_TIMEOUT, 1), progress);
        } else {
            preds = answer(model, schemas, questions, progress);
        }
        return WikiSqlScorer.score(split, examples, tables, preds, skipped);
    }

    /** The first {@code limit} items (all when limit is 0). */
    public static <T> List<T> first(List<T> items, int limit) {
        if (limit < 0) throw new IllegalArgumentException("limit must be >= 0, not " + limit);
        return limit == 0 || limit >= items.size() ? items : items.subList(0, limit);
    }

    private static List<String> answer(TextToSql model, List<Schema> schemas, List<String> questions, IntConsumer progress) {
        List<String> out = new ArrayList<>(questions.size());
        int chunk = Math.max(model.options().decoding().batchSize(), 32);
        for (int i = 0; i < questions.size(); i += chunk) {
            int j = Math.min(questions.size(), i + chunk);
            for (SqlAnswer a : model.askAll(schemas.subList(i, j), questions.subList(i, j))) out.add(a.sql());
            if (progress != null) progress.accept(out.size());
        }
        return out;
    }

    /** How long a candidate may run on the database during execution-guided decoding. */
    static final Duration GUIDE_TIMEOUT = Duration.ofSeconds(2);

    /**
     * Execution-guided answers: question i's database is the one named {@code dbOf.apply(i)} (null: none, keep the
     * first answer), opened by {@code open} on first use and closed at the end. The first answers are decoded in
     * batches; the beam is searched only for those that find no value.
     */
    static List<String> guided(TextToSql model, List<Schema> schemas, List<String> questions, IntFunction<String> dbOf,
                               Function<String, SqliteDatabase> open, IntConsumer progress) {
        Map<String, SqliteDatabase> opened = new HashMap<>();
        try {
            List<String> out = new ArrayList<>(questions.size());
            int chunk = Math.max(model.options().decoding().batchSize(), 32);
            for (int i = 0; i < questions.size(); i += chunk) {
                int j = Math.min(questions.size(), i + chunk);
                List<SqlAnswer> first = model.decodeAll(schemas.subList(i, j), questions.subList(i, j));
                for (int k = i; k < j; k++) {
                    String id = dbOf.apply(k);
                    SqlAnswer a = first.get(k - i);
                    if (id == null) {
                        out.add(a.sql());
                        continue;
                    }
                    SqliteDatabase db = opened.computeIfAbsent(id, open);
                    out.add(model.orElseCandidate(schemas.get(k), questions.get(k), a, c -> findsValue(c, db)).sql());
                }
                if (progress != null) progress.accept(out.size());
            }
            return out;
        } finally {
            opened.values().forEach(SqliteDatabase::close);
        }
    }

    /** Whether the answer is safe, runs on {@code db} without an error or time-out, and returns a row with a non-null value. */
    public static boolean findsValue(SqlAnswer a, SqliteDatabase db) {
        if (!a.safe()) return false;
        try {
            return db.queryUntrusted(a.sql()).rows().stream().anyMatch(row -> row.stream().anyMatch(v -> v != null));
        } catch (SqlExecutionException e) {
            return false;
        }
    }
}
