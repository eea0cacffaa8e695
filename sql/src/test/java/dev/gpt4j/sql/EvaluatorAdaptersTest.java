package dev.gpt4j.sql;

import dev.gpt4j.core.LoraAdapter;
import dev.gpt4j.core.LoraConfig;
import dev.gpt4j.data.ScoreItem;
import dev.gpt4j.data.ScoreReport;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Evaluation with one adapter per database: each database's questions get its adapter, the others the model alone. */
class EvaluatorAdaptersTest {
    static final Path SHIPPED = Path.of("..", "models", "gpt4j-sql");

    @Test
    void eachDatabaseIsAnsweredWithItsOwnAdapterAndTheOthersAsWithout(@TempDir Path dir) {
        Spider spider = Spider.open(Fixtures.dataDir().resolve("spider"));
        List<SpiderExample> ex = new ArrayList<>();
        for (String db : List.of("concert_singer", "pets_1")) {
            ex.addAll(spider.examples("dev").stream().filter(e -> e.dbId().equals(db)).limit(6).toList());
        }
        Path adapter = dir.resolve("concert_singer");
        try (TextToSql t = TextToSql.load(SHIPPED)) {
            // an adapter that changes answers: random A and B (a trained one would too, only better)
            LoraAdapter a = LoraAdapter.create(LoraConfig.parse("r=4,alpha=8,targets=c_attn"), t.model().config(), "test", 3);
            a.params().values().assign(Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, a.params().values().shape()).muli(0.2));
            a.save(adapter);
            a.close();
            t.options(TextToSql.Options.defaults());
            ScoreReport without = Evaluator.spider(t, spider, ex, "dev", db -> null, null);
            ScoreReport with = Evaluator.spider(t, spider, ex, "dev", db -> db.equals("concert_singer") ? adapter : null, null);
            assertNull(t.adapter(), "no adapter is left active");
            ScoreReport again = Evaluator.spider(t, spider, ex, "dev", db -> null, null);
            int changed = 0;
            for (int i = 0; i < ex.size(); i++) {
                ScoreItem w = with.items().get(i), o = without.items().get(i);
                if (ex.get(i).dbId().equals("pets_1")) assertEquals(o.predicted(), w.predicted(), "a database without an adapter is answered as before");
                else if (!o.predicted().equals(w.predicted())) changed++;
                assertEquals(o.predicted(), again.items().get(i).predicted(), "the model's own weights are untouched");
            }
            assertTrue(changed > 0, "the adapter was used for its database");
            // the same answers as the model loaded with that adapter alone
            try (TextToSql single = TextToSql.load(SHIPPED, adapter)) {
                single.options(t.options());
                List<SpiderExample> cs = ex.stream().filter(e -> e.dbId().equals("concert_singer")).toList();
                ScoreReport alone = Evaluator.spider(single, spider, cs, "dev", null);
                for (int i = 0; i < cs.size(); i++) assertEquals(alone.items().get(i).predicted(), with.items().get(i).predicted());
            }
        }
    }
}
