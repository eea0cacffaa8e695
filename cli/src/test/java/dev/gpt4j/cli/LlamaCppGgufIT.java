package dev.gpt4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpt4j.core.GgufModelFiles;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.KvCache;
import dev.gpt4j.core.gguf.GgmlType;
import dev.gpt4j.core.gguf.GgufFile;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.tokenizer.BpeTokenizer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * gpt4j's GGUF files checked against the real llama.cpp (node-llama-cpp 3.22.1's CPU build, through
 * benchmarks/llamacpp/run.mjs), and llama.cpp's quantized files checked in gpt4j. The shipped model
 * (models/gpt4j-sql) is exported with {@code gpt4j convert --format gguf} in F32, F16, Q8_0 and Q4_0; for every file,
 * llama.cpp and gpt4j tokenize 26 prompts (20 text-to-SQL prompts with the special tokens, 6 of plain text) and
 * greedy-decode 32 new tokens after each, both with a float32 KV cache (run.mjs --kv f32). llama.cpp's own
 * quantizer (benchmarks/llamacpp/quantize.sh) makes Q8_0 and Q4_0 files from the F32 export, which gpt4j then loads
 * and decodes.
 *
 * <p>What is expected: identical token ids everywhere; identical continuations at F32. With Q8_0 and Q4_0 weights
 * gpt4j computes as llama.cpp does (activations quantized to Q8_0 blocks, integer block products:
 * {@link GptModel#setQ8Activations}, on by default), so the two differ only in how float sums are rounded (and in the
 * tied head, which gpt4j keeps in float32, and the F16 rounding of llama.cpp's F16 products, which gpt4j does not
 * make): a near tie can still go the other way. The counts are printed, with floors ({@link #AGREE_F16},
 * {@link #AGREE_Q8_0}, {@link #AGREE_Q4_0}, {@link #AGREE_Q6_K_HEAD}), and for the quantized files the count gpt4j
 * reaches with the float activations too. That the quantized weights themselves are read alike is checked exactly:
 * written back as F32, llama.cpp decodes them as gpt4j decodes the quantized file with the float activations.
 * gpt4j's F16, Q8_0 and Q4_0 tensors must also be byte for byte those of llama.cpp's quantizer.
 *
 * <p>Without node, the npm package (npm install --omit=optional in benchmarks/llamacpp) or, for the quantizer, gcc,
 * the tests are skipped with a one-line reason; with the environment variable GPT4J_REQUIRE_LLAMA set (as .ci/run
 * does) they fail instead.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaCppGgufIT {
    static final Path ROOT = Path.of(System.getProperty("gpt4j.root", "..")).toAbsolutePath().normalize();
    static final Path PEER = ROOT.resolve("benchmarks/llamacpp");
    static final Path SHIPPED = ROOT.resolve("models/gpt4j-sql");
    static final int NEW = 32, SQL_PROMPTS = 20;
    /**
     * Text-to-SQL prompts (of 20) on which the continuations must agree: at F16 and on the Q8_0 files, the 18;
     * on gpt4j's Q4_0 file 17; on llama.cpp's Q4_0 file, whose tied head is Q6_K (llama.cpp quantizes its input to
     * Q8_K, which gpt4j does not do), 15. Measured here (node-llama-cpp 3.22.1 on an AVX-512 x86-64, its zen4 build)
     * with the quantized activations: F16 19, Q8_0 19 (both files), Q4_0 19 (gpt4j's) and 19 (llama.cpp's); with the
     * float activations (gpt4j before it computed as llama.cpp does): Q8_0 17, Q4_0 19 and 16. Every parting is a near
     * tie (gpt4j's logit gap 0.004 to 0.04). A broken quantizer, reader or product agrees on a few prompts at most.
     */
    static final int AGREE_F16 = 18, AGREE_Q8_0 = 18, AGREE_Q4_0 = 17, AGREE_Q6_K_HEAD = 15;

    /** Schemas (DDL) and questions: five questions on each of four schemas. */
    static final Map<String, List<String>> SQL = new java.util.LinkedHashMap<>();

    static {
        SQL.put("examples/employees.sql", List.of("Show me the average salary by department", "How many employees are there?",
                "What is the name of the employee with the highest salary?", "List the projects that started after 2020",
                "Which departments are located in Boston?"));
        SQL.put("CREATE TABLE singer (singer_id INT PRIMARY KEY, name TEXT, country TEXT, age INT);\n"
                + "CREATE TABLE concert (concert_id INT PRIMARY KEY, concert_name TEXT, year INT, singer_id INT REFERENCES singer(singer_id));",
                List.of("How many singers are there?", "List the names of singers from France", "What is the average age of all singers?",
                        "Show the names of concerts held in 2014", "Which singer gave the most concerts?"));
        SQL.put("CREATE TABLE flights (flight_no INT PRIMARY KEY, origin TEXT, destination TEXT, distance INT, price REAL);",
                List.of("What is the cheapest flight from Paris?", "How many flights go to Tokyo?", "Show all destinations ordered by distance",
                        "What is the longest distance of any flight?", "List flights with a price above 500"));
        SQL.put("CREATE TABLE table_1_10015132_11 (player TEXT, no TEXT, nationality TEXT, position TEXT, years_in_toronto TEXT, school_team TEXT);",
                List.of("What position does the player who played for butler cc (ks) play?", "How many schools did player number 3 play at?",
                        "What school did player number 21 play for?", "Who is the player that wears number 42?",
                        "What year did Jamal Mashburn play?"));
    }

    static final List<String> PLAIN = List.of("The quick brown fox jumps over the lazy dog.", "SELECT name FROM singer WHERE age > 30",
            "héllo wörld ✓ 😀\n\ttabs  and   spaces\n\n", "it's the singer's 2014 concert, isn't it? 12345 678",
            "a<|endoftext|>b", "<|question|> How many heads? <|sql|>");

    Path dir;
    Path promptsFile;
    List<String> prompts;
    final Map<String, Path> ours = new HashMap<>();
    final Map<Path, JsonNode> llamaRuns = new HashMap<>();

    // ---------------------------------------------------------------------------------------------- environment

    static boolean required() {
        String v = System.getenv("GPT4J_REQUIRE_LLAMA");
        return v != null && !v.isEmpty() && !v.equals("0");
    }

    private static final java.util.Set<String> SAID = new java.util.HashSet<>();

    /** Skips (saying why in one line, once) or, under GPT4J_REQUIRE_LLAMA, fails, unless {@code ok}. */
    static void need(boolean ok, String reason) {
        if (ok) return;
        if (required()) fail("GPT4J_REQUIRE_LLAMA is set but " + reason);
        if (SAID.add(reason)) System.out.println("LlamaCppGgufIT: llama.cpp checks skipped: " + reason);
        Assumptions.abort("llama.cpp checks skipped: " + reason);
    }

    static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    static void needLlama() {
        need(runs("node", "--version"), "node is not on the PATH");
        need(Files.isDirectory(PEER.resolve("node_modules/node-llama-cpp")) && Files.isDirectory(PEER.resolve("node_modules/@node-llama-cpp/linux-x64")),
                "node-llama-cpp is not installed (cd benchmarks/llamacpp && npm install --omit=optional)");
    }

    static void needQuantizer() {
        needLlama();
        need(runs("gcc", "--version") || runs("cc", "--version"), "no C compiler (gcc) for benchmarks/llamacpp/quantize.sh");
        need(runs("git", "--version"), "no git for benchmarks/llamacpp/quantize.sh (it takes llama.h from the package's source bundle)");
    }

    // ---------------------------------------------------------------------------------------------- set-up

    /** Exports the shipped model in the four types and writes the prompts, once (if llama.cpp is there to check them). */
    @BeforeAll
    void exportTheShippedModel(@TempDir Path tmp) throws IOException {
        dir = tmp;
        try {
            needLlama();
        } catch (org.opentest4j.TestAbortedException e) {
            return; // each test skips, saying why
        }
        BpeTokenizer tok = BpeTokenizer.load(SHIPPED);
        prompts = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : SQL.entrySet()) {
            Schema schema = e.getKey().endsWith(".sql") ? DdlSchemas.read(ROOT.resolve(e.getKey())) : DdlSchemas.parse(e.getKey(), "inline", "s");
            for (String q : e.getValue()) {
                String text = PromptFormat.promptText(schema, q);
                int n = tok.encode(text).length;
                assertTrue(n + NEW <= 256, "prompt of " + n + " tokens + " + NEW + " fits the context of 256: " + text);
                prompts.add(text);
            }
        }
        assertEquals(SQL_PROMPTS, prompts.size());
        prompts.addAll(PLAIN);
        promptsFile = dir.resolve("prompts.json");
        Files.writeString(promptsFile, new ObjectMapper().writeValueAsString(prompts));
        for (String dtype : List.of("f32", "f16", "q8_0", "q4_0")) {
            Path out = dir.resolve("gpt4j-sql-" + dtype + ".gguf");
            StringWriter o = new StringWriter(), e = new StringWriter();
            int rc = Gpt4jCommand.run(new String[] {"convert", "--model", SHIPPED.toString(), "--format", "gguf", "--dtype", dtype,
                    "--out", out.toString()}, new PrintWriter(o), new PrintWriter(e));
            assertEquals(0, rc, e.toString());
            ours.put(dtype, out);
        }
    }

    // ---------------------------------------------------------------------------------------------- the two sides

    /** run.mjs on a file: llama.cpp's ids and greedy continuations of every prompt (F32 KV cache, one thread). */
    JsonNode llama(Path gguf) throws Exception {
        needLlama();
        JsonNode cached = llamaRuns.get(gguf);
        if (cached != null) return cached;
        Path out = dir.resolve(gguf.getFileName() + ".llama.json"), err = dir.resolve(gguf.getFileName() + ".llama.err");
        Process p = new ProcessBuilder("node", PEER.resolve("run.mjs").toString(), gguf.toString(), promptsFile.toString(),
                "--new", String.valueOf(NEW), "--kv", "f32", "--threads", "1", "--no-timings")
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("run.mjs on " + gguf + " did not finish in 300 s");
        }
        assertEquals(0, p.exitValue(), "run.mjs on " + gguf + ": " + Files.readString(err));
        JsonNode run = new ObjectMapper().readTree(out.toFile());
        assertEquals(prompts.size(), run.get("prompts").size());
        llamaRuns.put(gguf, run);
        return run;
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
        return best;
    }

    /** gpt4j's greedy continuation (the first arg-max, as llama.cpp's greedy sampler), KV-cached. */
    static int[] greedy(GptModel m, int[] prompt, int n) {
        return greedy(m, prompt, n, null, null);
    }

    /**
     * As {@link #greedy(GptModel, int[], int)}; with {@code other} (another side's continuation), the logit gap at the
     * first step where gpt4j's choice differs from it (gpt4j's logit of its token minus its logit of the other's) goes
     * into gap[0]: how near the tie was, on gpt4j's side.
     */
    static int[] greedy(GptModel m, int[] prompt, int n, int[] other, float[] gap) {
        try (KvCache cache = m.newKvCache(1)) {
            float[] logits = m.prefill(cache, 0, prompt);
            int[] out = new int[n];
            boolean parted = false;
            for (int i = 0; i < n; i++) {
                out[i] = argmax(logits);
                if (other != null && !parted && out[i] != other[i]) {
                    gap[0] = logits[out[i]] - logits[other[i]];
                    parted = true;
                }
                if (i + 1 < n) logits = m.step(cache, new int[] {out[i]});
            }
            return out;
        }
    }

    /** What the two sides did on one file; floatSqlAgree: gpt4j with the float activations (-1: not asked). */
    record Comparison(String what, int sqlAgree, int plainAgree, List<String> diffs, int floatSqlAgree) {
        int agree() {
            return sqlAgree + plainAgree;
        }

        String summary() {
            return String.format("%s: gpt4j and llama.cpp greedy-decode the same %d tokens on %d of %d text-to-SQL prompts and %d of %d plain ones%s",
                    what, NEW, sqlAgree, SQL_PROMPTS, plainAgree, PLAIN.size(),
                    floatSqlAgree < 0 ? "" : " (gpt4j with the float activations instead of Q8_0 ones: " + floatSqlAgree + " of " + SQL_PROMPTS + ")");
        }
    }

    /**
     * Loads {@code gguf} in gpt4j and in llama.cpp: the same ids for every prompt (asserted), and the continuations
     * compared (gpt4j as it runs by default; for a file with Q8_0 or Q4_0 weights also with the float activations).
     */
    Comparison compare(String what, Path gguf) throws Exception {
        JsonNode run = llama(gguf);
        int sql = 0, plain = 0, floatSql = -1;
        List<String> diffs = new ArrayList<>();
        try (GgufModelFiles.Model m = GgufModelFiles.load(gguf)) {
            m.model().eval();
            assertTrue(m.model().q8Activations(), "gpt4j runs Q8_0 and Q4_0 weights with Q8_0 activations by default");
            boolean quantized = m.model().packedWeights().values().stream().anyMatch(q -> q.takesQ8Activations());
            if (quantized) {
                m.model().setQ8Activations(false);
                floatSql = 0;
                for (int i = 0; i < SQL_PROMPTS; i++) {
                    int[] ids = m.tokenizer().encode(prompts.get(i));
                    if (Arrays.equals(ints(run.get("prompts").get(i).get("continuation")), greedy(m.model(), ids, NEW))) floatSql++;
                }
                m.model().setQ8Activations(true);
            }
            for (int i = 0; i < prompts.size(); i++) {
                JsonNode r = run.get("prompts").get(i);
                int[] ids = m.tokenizer().encode(prompts.get(i));
                assertArrayEquals(ints(r.get("ids")), ids, what + ": llama.cpp's token ids for " + prompts.get(i));
                int[] theirs = ints(r.get("continuation"));
                float[] gap = new float[1];
                int[] mine = greedy(m.model(), ids, NEW, theirs, gap);
                if (Arrays.equals(theirs, mine)) {
                    if (i < SQL_PROMPTS) sql++;
                    else plain++;
                } else {
                    int at = 0;
                    while (theirs[at] == mine[at]) at++;
                    boolean afterEnd = false;
                    for (int k = 0; k < at; k++) afterEnd |= mine[k] == m.tokenizer().specialTokens().getOrDefault(BpeTokenizer.END_OF_TEXT, -1);
                    diffs.add(String.format("prompt %d parts at token %d%s (gpt4j's logit gap %.4f)", i, at, afterEnd ? ", after <|endoftext|>" : "", gap[0]));
                }
            }
        }
        Comparison c = new Comparison(what, sql, plain, diffs, floatSql);
        System.out.println(c.summary() + (diffs.isEmpty() ? "" : " " + diffs));
        return c;
    }

    /** The tensors of two GGUF files: the same names, types, dimensions and bytes. */
    static void assertSameTensors(Path a, Path b) {
        try (GgufFile fa = GgufFile.open(a); GgufFile fb = GgufFile.open(b)) {
            assertEquals(fa.tensors().size(), fb.tensors().size());
            for (GgufFile.TensorInfo t : fa.tensors()) {
                GgufFile.TensorInfo u = fb.tensor(t.name());
                assertEquals(t.type(), u.type(), t.name());
                assertArrayEquals(t.ne(), u.ne(), t.name());
                assertEquals(fa.tensorData(t.name()), fb.tensorData(t.name()), t.name() + " (" + t.type() + "): bytes differ");
            }
        }
    }

    Path quantize(String type, String... flags) throws Exception {
        needQuantizer();
        Path out = dir.resolve("llama-" + type + String.join("", flags).replace("--", "-") + ".gguf");
        if (Files.exists(out)) return out;
        List<String> cmd = new ArrayList<>(List.of("bash", PEER.resolve("quantize.sh").toString(), ours.get("f32").toString(), out.toString(), type, "1"));
        cmd.addAll(List.of(flags));
        Path log = dir.resolve(out.getFileName() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("quantize.sh did not finish in 300 s");
        }
        assertEquals(0, p.exitValue(), "quantize.sh " + cmd + ":\n" + Files.readString(log, StandardCharsets.UTF_8));
        return out;
    }

    // ---------------------------------------------------------------------------------------------- the checks

    /** F32: llama.cpp and gpt4j compute the same greedy tokens on every prompt, and gpt4j the folder's. */
    @Test
    void f32ExportDecodesIdenticallyInLlamaCpp() throws Exception {
        Comparison c = compare("F32", ours.get("f32"));
        assertEquals(prompts.size(), c.agree(), c.summary() + " " + c.diffs());
        // the file is the folder's model: gpt4j decodes it as it decodes the folder
        try (GptModel folder = GptModel.load(SHIPPED).eval(); GptModel file = GptModel.load(ours.get("f32")).eval()) {
            BpeTokenizer tok = BpeTokenizer.load(SHIPPED);
            for (String p : prompts.subList(0, 4)) assertArrayEquals(greedy(folder, tok.encode(p), NEW), greedy(file, tok.encode(p), NEW), p);
        }
    }

    @Test
    void f16ExportAgreesWithLlamaCpp() throws Exception {
        Comparison c = compare("F16", ours.get("f16"));
        assertTrue(c.sqlAgree() >= AGREE_F16, c.summary());
    }

    /**
     * gpt4j's Q8_0 and Q4_0 models and the one of llama.cpp's Q4_0 file (Q6_K head) written as F32 GGUF, their
     * dequantized weights as they are: llama.cpp decodes them exactly as gpt4j decodes the quantized files with the
     * float activations ({@code setQ8Activations(false)}). So gpt4j reads the quantized weights (Q6_K included) exactly
     * as llama.cpp does, and what remains between the two on a quantized file is the arithmetic of the products.
     */
    @Test
    void quantizedModelsWrittenAsF32DecodeInLlamaCppAsGpt4jDecodesThem() throws Exception {
        needLlama();
        List<Path> files = new ArrayList<>(List.of(ours.get("q8_0"), ours.get("q4_0")));
        try {
            needQuantizer();
            files.add(quantize("q4_0"));
        } catch (org.opentest4j.TestAbortedException e) {
            System.out.println("(llama.cpp's Q4_0 file left out: " + e.getMessage() + ")");
        }
        for (Path q : files) {
            Path twin = dir.resolve(q.getFileName().toString().replace(".gguf", "-as-f32.gguf"));
            try (GgufModelFiles.Model m = GgufModelFiles.load(q)) {
                GgufModelFiles.save(m.model(), m.tokenizer(), twin, GgmlType.F32);
            }
            JsonNode run = llama(twin);
            int same = 0;
            List<Integer> differ = new ArrayList<>();
            try (GgufModelFiles.Model m = GgufModelFiles.load(q)) {
                m.model().setQ8Activations(false); // the dequantized weights times the float activations, as llama.cpp on the F32 twin
                for (int i = 0; i < prompts.size(); i++) {
                    int[] ids = m.tokenizer().encode(prompts.get(i));
                    if (Arrays.equals(ints(run.get("prompts").get(i).get("continuation")), greedy(m.model(), ids, NEW))) same++;
                    else differ.add(i);
                }
            }
            System.out.printf("%s, dequantized to F32: llama.cpp decodes as gpt4j decodes the quantized file on %d of %d prompts %s%n",
                    q.getFileName(), same, prompts.size(), differ);
            assertEquals(prompts.size(), same, q.getFileName() + ": prompts that differ: " + differ);
        }
    }

    /** gpt4j's own Q8_0 file: gpt4j's greedy tokens against llama.cpp's on that file (the issue: at least 18 of 20). */
    @Test
    void q8_0ExportAgreesWithLlamaCpp() throws Exception {
        Comparison c = compare("Q8_0 (gpt4j's file)", ours.get("q8_0"));
        assertTrue(c.sqlAgree() >= AGREE_Q8_0, c.summary());
    }

    @Test
    void q4_0ExportAgreesWithLlamaCpp() throws Exception {
        Comparison c = compare("Q4_0 (gpt4j's file)", ours.get("q4_0"));
        assertTrue(c.sqlAgree() >= AGREE_Q4_0, c.summary());
    }

    /**
     * gpt4j's F16, Q8_0 and Q4_0 files hold the tensors llama.cpp's quantizer makes from the F32 export, byte for byte
     * (for Q4_0 with the tied head in Q8_0, --output-type q8_0: by default llama.cpp makes it Q6_K, which gpt4j does not
     * write).
     */
    @Test
    void gpt4jQuantizesAsLlamaCppDoes() throws Exception {
        assertSameTensors(quantize("f16"), ours.get("f16"));
        assertSameTensors(quantize("q8_0"), ours.get("q8_0"));
        assertSameTensors(quantize("q4_0", "--output-type", "q8_0"), ours.get("q4_0"));
    }

    /** llama.cpp's Q8_0 file of the F32 export in gpt4j: the same tokens as llama.cpp on it. */
    @Test
    void llamaCppQ8_0FileDecodesInGpt4j() throws Exception {
        Path q8 = quantize("q8_0");
        Comparison c = compare("Q8_0 (llama.cpp's file)", q8);
        assertTrue(c.sqlAgree() >= AGREE_Q8_0, c.summary());
    }

    /** llama.cpp's default Q4_0 file (its tied head Q6_K, as the rows are 256 values) in gpt4j. */
    @Test
    void llamaCppQ4_0FileDecodesInGpt4j() throws Exception {
        Path q4 = quantize("q4_0");
        try (GgufFile f = GgufFile.open(q4)) {
            assertEquals(GgmlType.Q6_K, f.tensor("token_embd.weight").type(), "llama.cpp's default for a 256-wide tied head");
            assertEquals(GgmlType.Q4_0, f.tensor("blk.0.ffn_up.weight").type());
        }
        Comparison c = compare("Q4_0 (llama.cpp's file, Q6_K head)", q4);
        assertTrue(c.sqlAgree() >= AGREE_Q6_K_HEAD, c.summary());
    }
}
