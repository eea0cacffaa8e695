package dev.gpt4j.benchmarks;

import dev.gpt4j.data.SqlGuard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Parsing Spider's train gold queries (8,659) with JSqlParser three ways: its default {@code parse} (a new
 * executor per call, for the time-out), {@link SqlGuard#check} (our path: a shared pool, plus the lexical
 * checks), and the parser called directly (no time-out). Reported per whole file.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class SqlParseBenchmark {
    List<String> queries;

    @Setup
    public void load() {
        queries = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(BenchData.dir().resolve("spider/train_gold.sql"))) {
                if (!line.isBlank()) {
                    queries.add(line.split("\t")[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Benchmark
    public int jsqlparserDefault() {
        int ok = 0;
        for (String q : queries) {
            try {
                CCJSqlParserUtil.parse(q);
                ok++;
            } catch (Exception e) {
                // counted as not ok
            }
        }
        return ok;
    }

    @Benchmark
    public int sqlGuard() {
        int ok = 0;
        for (String q : queries) {
            ok += SqlGuard.check(q).allowed() ? 1 : 0;
        }
        return ok;
    }

    @Benchmark
    public int jsqlparserDirect() {
        int ok = 0;
        for (String q : queries) {
            try {
                CCJSqlParserUtil.newParser(q).withAllowComplexParsing(true).Statement();
                ok++;
            } catch (Throwable e) {
                // counted as not ok
            }
        }
        return ok;
    }
}
