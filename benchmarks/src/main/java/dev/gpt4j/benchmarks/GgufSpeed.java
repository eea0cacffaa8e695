package dev.gpt4j.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.core.GgufModelFiles;
import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.KvCache;
import dev.gpt4j.core.gguf.GgmlType;
import dev.gpt4j.core.quant.QuantizedMatrix;
import dev.gpt4j.tokenizer.BpeTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * gpt4j's side of the speed comparison with llama.cpp on one GGUF file (benchmarks/llamacpp/side-by-side.sh runs
 * both sides alternately). The work is run.mjs's, measured the same way:
 * <ul>
 *   <li>prompt processing: a prompt of N tokens (run.mjs's text, tokenized by the file's tokenizer and repeated) into
 *       an empty KV cache, logits of the last position only; tokens/s = N / time;</li>
 *   <li>generation: after a 1-token prompt (not timed), N new tokens at batch 1, each the arg-max of the last logits
 *       fed back in; tokens/s = N / time;</li>
 *   <li>each the median of R timed runs after one warm-up run; before any of them, the whole set runs again and again
 *       for {@code --warmup} seconds (default 5), so that the JIT has compiled the kernels (llama.cpp's are compiled
 *       ahead of time; a fresh JVM's first runs are several times slower).</li>
 * </ul>
 * Threads: gpt4j uses as many as the JVM sees processors (Kernels' pool) plus OpenBLAS's for one-row products; the
 * script pins both with {@code -XX:ActiveProcessorCount=T} and {@code OPENBLAS_NUM_THREADS=T}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.gpt4j.benchmarks.GgufSpeed \
 *      make --shape small|medium|gpt2-124m --dtype f32|f16|q8_0|q4_0 --out FILE.gguf [--gpt2 ../shared/data/gpt2] [--seed S]
 * java ... GgufSpeed run FILE.gguf [--pp 64,256] [--tg 128] [--repeat 3] [--warmup 5]   # JSON: run.mjs's "timings"
 * java ... GgufSpeed table RESULTS.jsonl                                      # a Markdown table of both sides
 * </pre>
 */
public final class GgufSpeed {
    private GgufSpeed() {}

    /** run.mjs's timing text: the prompts are this, tokenized without special tokens, repeated to the length. */
    static final String UNIT = "The quick brown fox jumps over the lazy dog. SELECT name FROM singer WHERE age > 20;\n";
    static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws IOException {
        if (args.length == 0) usage("a command: make, run or table");
        Map<String, String> o = options(Arrays.copyOfRange(args, 1, args.length));
        switch (args[0]) {
            case "make" -> make(o);
            case "run" -> run(o);
            case "table" -> table(o);
            default -> usage("unknown command " + args[0]);
        }
    }

    private static void usage(String problem) {
        System.err.println("GgufSpeed: " + problem + "\nusage: GgufSpeed make --shape small|medium|gpt2-124m --dtype f32|f16|q8_0|q4_0 --out FILE "
                + "[--gpt2 DIR] [--seed S] | run FILE [--pp 64,256] [--tg 128] [--repeat 3] [--warmup SECONDS] | table RESULTS.jsonl");
        System.exit(2);
    }

    /** "--key value" pairs, and the one positional argument as "file". */
    private static Map<String, String> options(String[] a) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < a.length; i++) {
            if (a[i].startsWith("--")) {
                if (i + 1 >= a.length) usage(a[i] + " needs a value");
                o.put(a[i].substring(2), a[++i]);
            } else if (o.putIfAbsent("file", a[i]) != null) {
                usage("one file only, not also " + a[i]);
            }
        }
        return o;
    }

    private static String need(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) usage("--" + key + " is required");
        return v;
    }

    // ---------------------------------------------------------------------------------------------- make

    /**
     * A random-weight GGUF (GPT-2's initialisation, seeded) of a preset's shape. 124M gets GPT-2's own tokenizer
     * (50,257 ids); 'small' and 'medium' GPT-2's cut to their vocabulary: the 256 byte tokens, the results of the
     * first V - 257 merges, and {@code <|endoftext|>}.
     */
    static void make(Map<String, String> o) {
        GptConfig c = GptConfig.preset(need(o, "shape")).withDropout(0);
        GgmlType type = GgmlType.valueOf(need(o, "dtype").toUpperCase(Locale.ROOT));
        Path out = Path.of(need(o, "out"));
        BpeTokenizer gpt2 = BpeTokenizer.load(Path.of(o.getOrDefault("gpt2", "../shared/data/gpt2")));
        BpeTokenizer tok = gpt2.vocabSize() == c.vocabSize() ? gpt2 : cut(gpt2, c.vocabSize());
        try (GptModel m = GptModel.create(c, Long.parseLong(o.getOrDefault("seed", "1")))) {
            GgufModelFiles.save(m, tok, out, type, "random " + o.get("shape") + " " + type);
        }
        System.out.printf("wrote %s: %s, %s, %s, %.1f MB%n", out, c, tok, type, out.toFile().length() / 1e6);
    }

    /** GPT-2's tokenizer cut to {@code v} ids: byte tokens, the first v - 257 merges' results, then end-of-text. */
    static BpeTokenizer cut(BpeTokenizer gpt2, int v) {
        int[][] merges = gpt2.merges();
        if (v < 257 || v - 257 > merges.length) throw new IllegalArgumentException("cannot cut GPT-2's vocabulary to " + v + " ids");
        List<String> tokens = new ArrayList<>(v);
        for (int id = 0; id < gpt2.vocabSize() && tokens.size() < 256; id++) {
            String t = gpt2.tokenString(id);
            if (t.codePointCount(0, t.length()) == 1 && !t.equals(BpeTokenizer.END_OF_TEXT)) tokens.add(t);
        }
        List<String> kept = new ArrayList<>(v - 257);
        for (int r = 0; r < v - 257; r++) {
            String left = gpt2.tokenString(merges[r][0]), right = gpt2.tokenString(merges[r][1]);
            kept.add(left + " " + right);
            tokens.add(left + right);
        }
        tokens.add(BpeTokenizer.END_OF_TEXT);
        return BpeTokenizer.fromParts(tokens, kept, List.of(BpeTokenizer.END_OF_TEXT));
    }

    // ---------------------------------------------------------------------------------------------- run

    static void run(Map<String, String> o) throws IOException {
        Path file = Path.of(need(o, "file"));
        int[] pp = Arrays.stream(o.getOrDefault("pp", "64,256").split(",")).filter(s -> !s.isBlank()).mapToInt(Integer::parseInt).toArray();
        int tg = Integer.parseInt(o.getOrDefault("tg", "128")), repeat = Math.max(1, Integer.parseInt(o.getOrDefault("repeat", "3")));
        double warmup = Double.parseDouble(o.getOrDefault("warmup", "5"));
        long t0 = System.nanoTime();
        try (GgufModelFiles.Model gm = GgufModelFiles.load(file)) {
            double loadS = (System.nanoTime() - t0) / 1e9;
            GptModel m = gm.model().eval();
            GptConfig c = m.config();
            int[] unit = gm.tokenizer().encode(UNIT, dev.gpt4j.tokenizer.SpecialTokens.PLAIN_TEXT);
            ObjectNode out = JSON.createObjectNode();
            out.put("model", file.toString());
            out.put("side", "gpt4j");
            out.put("threads", Runtime.getRuntime().availableProcessors());
            out.put("vector_api", QuantizedMatrix.vectorized());
            out.put("load_s", Math.round(loadS * 100) / 100.0);
            int gen = Math.min(tg, c.contextLength() - 1);
            try (KvCache cache = m.newKvCache(1)) {
                long w0 = System.nanoTime();
                int rounds = 0;
                do {
                    for (int n : pp) if (n <= c.contextLength()) prompt(m, cache, unit, n);
                    if (gen > 0) generate(m, cache, unit, gen);
                    rounds++;
                } while ((System.nanoTime() - w0) / 1e9 < warmup);
                out.put("warmup_rounds", rounds);
                ArrayNode pps = out.putArray("prompt_processing");
                for (int n : pp) {
                    ObjectNode r = pps.addObject().put("tokens", n);
                    if (n > c.contextLength()) {
                        r.put("skipped", "longer than the model's context (" + c.contextLength() + ")");
                        continue;
                    }
                    double[] runs = new double[repeat];
                    for (int k = 0; k <= repeat; k++) {
                        double secs = prompt(m, cache, unit, n);
                        if (k > 0) runs[k - 1] = n / secs; // run 0 warms up
                    }
                    put(r, runs);
                }
                if (gen > 0) {
                    double[] runs = new double[repeat];
                    for (int k = 0; k <= repeat; k++) {
                        double secs = generate(m, cache, unit, gen);
                        if (k > 0) runs[k - 1] = gen / secs;
                    }
                    put(out.putObject("generation").put("tokens", gen), runs);
                }
            }
            System.out.println(JSON.writeValueAsString(out));
        }
    }

    /** Seconds to run an n-token prompt (run.mjs's text, repeated) into the emptied cache. */
    static double prompt(GptModel m, KvCache cache, int[] unit, int n) {
        int[] prompt = new int[n];
        for (int i = 0; i < n; i++) prompt[i] = unit[i % unit.length];
        cache.reset();
        long s = System.nanoTime();
        m.prefill(cache, 0, prompt);
        return (System.nanoTime() - s) / 1e9;
    }

    /** Seconds to generate n tokens greedily at batch 1 after a 1-token prompt (the prompt not timed). */
    static double generate(GptModel m, KvCache cache, int[] unit, int n) {
        cache.reset();
        float[] logits = m.prefill(cache, 0, new int[] {unit[0]});
        int[] tok = new int[1];
        long s = System.nanoTime();
        for (int i = 0; i < n; i++) {
            tok[0] = argmax(logits);
            logits = m.step(cache, tok);
        }
        return (System.nanoTime() - s) / 1e9;
    }

    private static void put(ObjectNode r, double[] runs) {
        double[] sorted = runs.clone();
        Arrays.sort(sorted);
        r.put("tokens_per_s", Math.round(sorted[sorted.length / 2] * 10) / 10.0);
        ArrayNode a = r.putArray("runs");
        for (double x : runs) a.add(Math.round(x * 10) / 10.0);
    }

    static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
        return best;
    }

    // ---------------------------------------------------------------------------------------------- table

    /**
     * side-by-side.sh's results (JSON lines {"shape", "dtype", "side": "gpt4j"|"llama.cpp", "round", "timings"}) as a
     * Markdown table: per shape and type, each measure's median over the rounds for both sides, and gpt4j / llama.cpp.
     */
    static void table(Map<String, String> o) throws IOException {
        Map<String, Map<String, List<Double>>> cells = new LinkedHashMap<>(); // "shape dtype" -> "side measure" -> values
        for (String line : Files.readAllLines(Path.of(need(o, "file")))) {
            if (line.isBlank()) continue;
            JsonNode r = JSON.readTree(line);
            JsonNode t = r.get("timings");
            Map<String, List<Double>> cell = cells.computeIfAbsent(r.get("shape").asText() + " " + r.get("dtype").asText(), k -> new LinkedHashMap<>());
            String side = r.get("side").asText();
            for (JsonNode p : t.get("prompt_processing")) {
                if (p.has("tokens_per_s")) cell.computeIfAbsent(side + " pp" + p.get("tokens").asInt(), k -> new ArrayList<>()).add(p.get("tokens_per_s").asDouble());
            }
            if (t.hasNonNull("generation")) {
                cell.computeIfAbsent(side + " tg" + t.get("generation").get("tokens").asInt(), k -> new ArrayList<>()).add(t.get("generation").get("tokens_per_s").asDouble());
            }
        }
        List<String> measures = new ArrayList<>();
        for (Map<String, List<Double>> cell : cells.values()) {
            for (String k : cell.keySet()) {
                String m = k.substring(k.indexOf(' ') + 1);
                if (!measures.contains(m)) measures.add(m);
            }
        }
        StringBuilder sb = new StringBuilder("| shape | weights |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (String m : measures) {
            sb.append(" ").append(m).append(" gpt4j | ").append(m).append(" llama.cpp | ratio |");
            rule.append("---|---|---|");
        }
        System.out.println(sb);
        System.out.println(rule);
        for (Map.Entry<String, Map<String, List<Double>>> e : cells.entrySet()) {
            String[] sd = e.getKey().split(" ");
            StringBuilder row = new StringBuilder("| " + sd[0] + " | " + sd[1] + " |");
            for (String m : measures) {
                Double g = median(e.getValue().get("gpt4j " + m)), l = median(e.getValue().get("llama.cpp " + m));
                row.append(String.format(Locale.ROOT, " %s | %s | %s |", fmt(g), fmt(l), g == null || l == null ? "" : String.format(Locale.ROOT, "%.2f×", g / l)));
            }
            System.out.println(row);
        }
        System.out.println("\n(tokens/s, median over rounds; ratio = gpt4j / llama.cpp; pp = prompt processing of N tokens, tg = generation of N tokens at batch 1)");
    }

    private static Double median(List<Double> xs) {
        if (xs == null || xs.isEmpty()) return null;
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }

    private static String fmt(Double x) {
        return x == null ? "–" : String.format(Locale.ROOT, "%,.0f", x);
    }
}
