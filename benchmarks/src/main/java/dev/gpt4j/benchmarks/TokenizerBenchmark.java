package dev.gpt4j.benchmarks;

import dev.gpt4j.tokenizer.BpeTokenizer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Encode throughput of the GPT-2 tokenizer on one thread. The secondary metric {@code bytes} is UTF-8 input
 * bytes per second (divide by 1e6 for MB/s). {@code cache=warm} encodes the same text again and again, so its
 * words come from the word cache after the first pass; {@code cold} empties the cache before every pass.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar TokenizerBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TokenizerBenchmark {
    @Param({"verdict", "spider-questions", "spider-sql"})
    public String text;

    @Param({"warm", "cold"})
    public String cache;

    BpeTokenizer tok;
    String input;
    int bytes;

    @Setup
    public void setup() {
        tok = BpeTokenizer.load(BenchData.dir().resolve("gpt2"));
        input = BenchData.text(text);
        bytes = input.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Counts input bytes; JMH reports them as a rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    @Benchmark
    public int[] encode(Bytes counter) {
        if (cache.equals("cold")) tok.clearCache();
        counter.bytes += bytes;
        return tok.encode(input);
    }
}
