package dev.gpt4j.inference;

import dev.gpt4j.data.Schema;
import dev.gpt4j.data.ScoreReport;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import dev.gpt4j.data.SpiderScorer;
import dev.gpt4j.data.WikiSql;
import dev.gpt4j.data.WikiSqlExample;
import dev.gpt4j.data.WikiSqlScorer;
import dev.gpt4j.data.WikiSqlTable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Scores a text-to-SQL model on a data set split with the data module's scorers: Spider by execution on the
 * SQLite databases, WikiSQL by logical form. Questions are answered in batches; {@code limit} takes the first
 * N questions of the split (0 = all). {@code progress} hears the number answered so far (may be null).
 */
public final class Evaluator {
    private Evaluator() {}

    public static ScoreReport spider(TextToSql model, Spider spider, List<SpiderExample> examples, String split, IntConsumer progress) {
        List<SpiderExample> ex = new ArrayList<>();
        List<Schema> schemas = new ArrayList<>();
        List<String> questions = new ArrayList<>();
        for (SpiderExample e : examples) {
            if (!spider.hasDatabase(e.dbId())) continue; // the scorer lists it as skipped
            ex.add(e);
            schemas.add(spider.schema(e.dbId()));
            questions.add(e.question());
        }
        List<String> answers = answer(model, schemas, questions, progress);
        List<String> preds = new ArrayList<>(examples.size());
        int k = 0;
        for (SpiderExample e : examples) preds.add(spider.hasDatabase(e.dbId()) ? answers.get(k++) : "");
        return new SpiderScorer(spider).score(split, examples, preds);
    }

    public static ScoreReport wikiSql(TextToSql model, WikiSql wiki, String split, List<WikiSqlExample> examples, List<String> skipped,
                                      IntConsumer progress) {
        Map<String, WikiSqlTable> tables = wiki.tables(split);
        List<Schema> schemas = new ArrayList<>();
        List<String> questions = new ArrayList<>();
        for (WikiSqlExample e : examples) {
            schemas.add(tables.get(e.tableId()).schema());
            questions.add(e.question());
        }
        List<String> preds = answer(model, schemas, questions, progress);
        return WikiSqlScorer.score(split, examples, tables, preds, skipped);
    }

    /** The first {@code limit} items (all when limit is 0). */
    public static <T> List<T> first(List<T> items, int limit) {
        if (limit < 0) throw new IllegalArgumentException("limit must be >= 0, not " + limit);
        return limit == 0 || limit >= items.size() ? items : items.subList(0, limit);
    }

    private static List<String> answer(TextToSql model, List<Schema> schemas, List<String> questions, IntConsumer progress) {
        List<String> out = new ArrayList<>(questions.size());
        int chunk = Math.max(model.options().batchSize(), 32);
        for (int i = 0; i < questions.size(); i += chunk) {
            int j = Math.min(questions.size(), i + chunk);
            for (SqlAnswer a : model.askAll(schemas.subList(i, j), questions.subList(i, j))) out.add(a.sql());
            if (progress != null) progress.accept(out.size());
        }
        return out;
    }
}
