package dev.gpt4j.benchmarks;

import dev.gpt4j.data.Predictions;
import dev.gpt4j.data.ScoreReport;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import dev.gpt4j.data.SpiderScorer;
import dev.gpt4j.data.WikiSql;
import dev.gpt4j.data.WikiSqlScorer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole-data-set jobs, timed once per iteration (each run is seconds long, so single-shot is the honest mode):
 * loading all of WikiSQL train, scoring Spider dev gold against gold (execution on the SQLite databases), and
 * scoring WikiSQL dev gold against gold (JSqlParser reads 8,421 queries back into logical forms).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx4g")
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class DataBenchmark {
    @Benchmark
    public int wikisqlTrainLoad() {
        return WikiSql.open(BenchData.dir().resolve("wikisql")).examples("train").examples().size();
    }

    @Benchmark
    public double spiderDevGoldVsGold() {
        Spider s = Spider.open(BenchData.dir().resolve("spider"));
        List<SpiderExample> dev = s.examples("dev");
        List<String> gold = Predictions.read(s.dir().resolve("dev_gold.sql"), dev.stream().map(SpiderExample::dbId).toList());
        ScoreReport r = new SpiderScorer(s).score("dev", dev, gold);
        if (r.accuracy() != 1.0) {
            throw new IllegalStateException("gold against gold is not 100%: " + r.summary());
        }
        return r.accuracy();
    }

    @Benchmark
    public double wikisqlDevGoldVsGold() {
        WikiSql w = WikiSql.open(BenchData.dir().resolve("wikisql"));
        WikiSql.Loaded dev = w.examples("dev");
        List<String> gold = WikiSqlScorer.goldSql(dev.examples(), w.tables("dev"));
        return WikiSqlScorer.score("dev", dev.examples(), w.tables("dev"), gold, dev.skipped()).accuracy();
    }
}
