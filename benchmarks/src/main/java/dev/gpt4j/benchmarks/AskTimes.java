package dev.gpt4j.benchmarks;

import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.inference.Generation;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generator;
import dev.gpt4j.inference.TokenConstraint;
import dev.gpt4j.sql.SqlConstraint;
import dev.gpt4j.sql.SqlRules;
import dev.gpt4j.sql.TextToSql;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * {@code TextToSql.ask} warm, in one JVM, on examples/employees.sql: the median over 50 questions (each the median of
 * its rounds) of the prompt's prefill, the decoding without the constraint, the constraint's own time, and the whole
 * {@code ask} with its defaults. Not JMH: the split needs a timer inside the constraint.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.gpt4j.benchmarks.AskTimes [ROUNDS] [MODEL_DIR]
 * </pre>
 * The prefill is timed on a fresh generator each round (no schema kept from an earlier question); {@code ask} itself
 * keeps each schema's keys and values, as a server answering many questions does.
 */
public final class AskTimes {
    private AskTimes() {}

    public static void main(String[] args) throws IOException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path root = Path.of(System.getProperty("gpt4j.home", "."));
        Path modelDir = args.length > 1 ? Path.of(args[1]) : root.resolve("models/gpt4j-sql");
        List<String> questions;
        try (InputStream in = AskTimes.class.getResourceAsStream("/employees-questions.txt")) {
            questions = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        }
        try (TextToSql t = TextToSql.load(modelDir)) {
            Schema schema = DdlSchemas.read(root.resolve("examples/employees.sql"));
            PromptFormat format = new PromptFormat(t.tokenizer());
            int ctx = t.model().config().contextLength();
            long[][] prefill = new long[questions.size()][rounds], decode = new long[questions.size()][rounds];
            long[][] constraint = new long[questions.size()][rounds], ask = new long[questions.size()][rounds];
            for (int r = -1; r < rounds; r++) { // round -1 warms the JIT
                for (int i = 0; i < questions.size(); i++) {
                    String q = questions.get(i);
                    int[] prompt = format.prompt(schema, q, ctx, Math.min(128, ctx / 3));
                    long[] inConstraint = new long[1];
                    TokenConstraint timed = timed(new SqlConstraint(t.tokenizer(), List.of(schema), List.of(q), SqlRules.CONSTRAINED), inConstraint);
                    Generation g;
                    try (Generator gen = new Generator(t.model(), t.tokenizer())) {
                        g = gen.generate(List.of(prompt), GenerationOptions.greedy(128), timed, 1, format.endId()).get(0);
                    }
                    long t0 = System.nanoTime();
                    t.ask(schema, q);
                    long wall = System.nanoTime() - t0;
                    if (r < 0) continue;
                    prefill[i][r] = g.prefillNanos();
                    decode[i][r] = g.generateNanos() - inConstraint[0];
                    constraint[i][r] = inConstraint[0];
                    ask[i][r] = wall;
                }
            }
            System.out.printf("%d questions on examples/employees.sql, %d rounds, %s%n", questions.size(), rounds, t.model());
            report("prefill", prefill);
            report("decode (without the constraint)", decode);
            report("constraint", constraint);
            report("ask (its defaults)", ask);
        }
    }

    /** A constraint that adds the time spent in it to {@code nanos[0]}. */
    static TokenConstraint timed(TokenConstraint c, long[] nanos) {
        return seq -> timed(c.start(seq), nanos);
    }

    private static TokenConstraint.State timed(TokenConstraint.State s, long[] nanos) {
        return new TokenConstraint.State() {
            @Override
            public boolean allows(int token) {
                long t0 = System.nanoTime();
                try {
                    return s.allows(token);
                } finally {
                    nanos[0] += System.nanoTime() - t0;
                }
            }

            @Override
            public TokenConstraint.State next(int token) {
                long t0 = System.nanoTime();
                TokenConstraint.State n = s.next(token);
                nanos[0] += System.nanoTime() - t0;
                return timed(n, nanos);
            }

            @Override
            public void prefer(float[] logits) {
                long t0 = System.nanoTime();
                s.prefer(logits);
                nanos[0] += System.nanoTime() - t0;
            }
        };
    }

    static void report(String what, long[][] v) {
        double[] med = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            long[] x = v[i].clone();
            Arrays.sort(x);
            med[i] = x[x.length / 2] / 1e6;
        }
        Arrays.sort(med);
        double sum = 0;
        for (double m : med) sum += m;
        System.out.printf("%-34s median %7.2f ms, mean %7.2f ms, p90 %7.2f ms%n", what, med[med.length / 2], sum / med.length,
                med[(int) (med.length * 0.9)]);
    }
}
