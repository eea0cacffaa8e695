package dev.gpt4j.cli;

import dev.gpt4j.data.DataDir;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.WikiSql;
import dev.gpt4j.tokenizer.BpeTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "data", mixinStandardHelpOptions = true,
        description = {"The data sets gpt4j reads (Spider, WikiSQL, GPT-2's vocabulary, The Verdict).",
                "Example: gpt4j data check --data ../shared/data"},
        subcommands = {DataCommand.Check.class})
final class DataCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** The expected sizes: the official releases' (WikiSQL's train as reconstructed in ../shared/data is also accepted). */
    static final int GPT2_VOCAB = 50_257, GPT2_MERGES = 50_000, VERDICT_CHARS = 20_479;
    static final int SPIDER_DATABASES = 166, SPIDER_DEV = 1_034, SPIDER_TRAIN_SPIDER = 7_000, SPIDER_TRAIN_OTHERS = 1_659;
    static final int WIKISQL_DEV = 8_421, WIKISQL_DEV_TABLES = 2_716, WIKISQL_TRAIN = 56_355, WIKISQL_TRAIN_MIN = 56_000;

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Checks the data folder: each data set's files are there, parse, and hold the official release's counts; "
                    + "with a SHA256SUMS file in the folder, every file it lists has its checksum. One line per data set; "
                    + "the exit code is 1 if one is missing or wrong.",
                    "Example: gpt4j data check --data ../shared/data"})
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--data", paramLabel = "DIR", description = "The data folder (default: -Dgpt4j.data, the environment variable "
                + DataDir.ENV + ", or ../shared/data beside the project).")
        Path data;

        @Override
        public Integer call() {
            Path dir = data != null ? data.toAbsolutePath().normalize() : DataDir.resolve();
            PrintWriter out = spec.commandLine().getOut();
            Map<String, List<String>> sums = checksums(dir);
            Map<String, Result> results = new LinkedHashMap<>();
            results.put("gpt2", guard(() -> gpt2(dir.resolve("gpt2"))));
            results.put("text", guard(() -> text(dir.resolve("text"))));
            results.put("spider", guard(() -> spider(dir.resolve("spider"))));
            results.put("wikisql", guard(() -> wikisql(dir.resolve("wikisql"))));
            int bad = 0;
            for (Map.Entry<String, Result> e : results.entrySet()) {
                Result r = e.getValue();
                if (r.state().equals("ok") && sums.containsKey(e.getKey())) r = r.withSums(sums.get(e.getKey()));
                if (!r.state().equals("ok")) bad++;
                out.printf("%-8s %-7s %s%n", e.getKey(), r.state(), r.detail());
            }
            out.flush();
            if (bad > 0) {
                spec.commandLine().getErr().printf("gpt4j data check: %d of %d data sets missing or wrong in %s (README, Data: what to download)%n",
                        bad, results.size(), dir);
                spec.commandLine().getErr().flush();
                return 1;
            }
            return 0;
        }
    }

    /** A data set's state (ok, MISSING, BAD) and what was found. */
    record Result(String state, String detail) {
        static Result ok(String detail) {
            return new Result("ok", detail);
        }

        static Result missing(Path p) {
            return new Result("MISSING", "no " + p);
        }

        static Result bad(String detail) {
            return new Result("BAD", detail);
        }

        /** With the SHA256SUMS verdict of this data set's files ({@code problems} first, the count last). */
        Result withSums(List<String> checked) {
            List<String> problems = checked.subList(0, checked.size() - 1);
            if (!problems.isEmpty()) return bad(String.join("; ", problems));
            return ok(detail + "; SHA256SUMS: " + checked.get(checked.size() - 1));
        }
    }

    /** One data set's check. */
    interface Probe {
        Result run() throws Exception;
    }

    static Result guard(Probe c) {
        try {
            return c.run();
        } catch (Exception e) {
            return Result.bad(e.getMessage() == null ? e.toString() : e.getMessage().replace('\n', ' '));
        }
    }

    static String n(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    static Result gpt2(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return Result.missing(dir);
        for (String f : List.of("vocab.json", "merges.txt")) if (!Files.isRegularFile(dir.resolve(f))) return Result.missing(dir.resolve(f));
        BpeTokenizer tok = BpeTokenizer.load(dir);
        if (tok.vocabSize() != GPT2_VOCAB) return Result.bad("vocab.json has " + n(tok.vocabSize()) + " tokens; GPT-2's has " + n(GPT2_VOCAB));
        Integer end = tok.specialTokens().get(BpeTokenizer.END_OF_TEXT);
        if (end == null || end != GPT2_VOCAB - 1) return Result.bad("<|endoftext|> is " + end + ", not " + (GPT2_VOCAB - 1));
        long merges;
        try (Stream<String> lines = Files.lines(dir.resolve("merges.txt"))) {
            merges = lines.filter(l -> !l.startsWith("#version") && !l.isBlank()).count();
        }
        if (merges != GPT2_MERGES) return Result.bad("merges.txt has " + n(merges) + " merges; GPT-2's has " + n(GPT2_MERGES));
        String detail = "vocab.json " + n(tok.vocabSize()) + " tokens, merges.txt " + n(merges) + " merges";
        Path vectors = dir.resolve("tiktoken-gpt2-vectors.jsonl");
        if (Files.isRegularFile(vectors)) detail += ", " + n(lines(vectors)) + " tiktoken reference encodings";
        return Result.ok(detail);
    }

    static Result text(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return Result.missing(dir);
        Path f = dir.resolve("the-verdict.txt");
        if (!Files.isRegularFile(f)) return Result.missing(f);
        int chars = Files.readString(f, StandardCharsets.UTF_8).length();
        if (chars != VERDICT_CHARS) return Result.bad(f.getFileName() + " has " + n(chars) + " characters; the book's has " + n(VERDICT_CHARS));
        return Result.ok("the-verdict.txt " + n(chars) + " characters");
    }

    static Result spider(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return Result.missing(dir);
        for (String f : List.of("tables.json", "dev.json", "train_spider.json", "train_others.json")) {
            if (!Files.isRegularFile(dir.resolve(f))) return Result.missing(dir.resolve(f));
        }
        Spider s = Spider.open(dir);
        int dbs = s.schemas().size(), dev = s.examples("dev").size(), ts = s.examples("train_spider").size(), to = s.examples("train_others").size();
        List<String> wrong = new ArrayList<>();
        if (dbs != SPIDER_DATABASES) wrong.add("tables.json has " + n(dbs) + " databases, not " + n(SPIDER_DATABASES));
        if (dev != SPIDER_DEV) wrong.add("dev.json has " + n(dev) + " questions, not " + n(SPIDER_DEV));
        if (ts != SPIDER_TRAIN_SPIDER) wrong.add("train_spider.json has " + n(ts) + " questions, not " + n(SPIDER_TRAIN_SPIDER));
        if (to != SPIDER_TRAIN_OTHERS) wrong.add("train_others.json has " + n(to) + " questions, not " + n(SPIDER_TRAIN_OTHERS));
        for (String[] gold : new String[][] {{"dev_gold.sql", String.valueOf(SPIDER_DEV)}, {"train_gold.sql", String.valueOf(SPIDER_TRAIN_SPIDER + SPIDER_TRAIN_OTHERS)}}) {
            Path f = dir.resolve(gold[0]);
            if (Files.isRegularFile(f) && lines(f) != Long.parseLong(gold[1])) wrong.add(gold[0] + " has " + n(lines(f)) + " lines, not " + n(Long.parseLong(gold[1])));
        }
        if (!wrong.isEmpty()) return Result.bad(String.join("; ", wrong));
        TreeSet<String> noFile = new TreeSet<>();
        for (String id : s.schemas().keySet()) if (!s.hasDatabase(id)) noFile.add(id);
        TreeSet<String> devWithout = new TreeSet<>();
        s.examples("dev").forEach(e -> {
            if (noFile.contains(e.dbId())) devWithout.add(e.dbId());
        });
        String detail = n(dbs) + " databases, " + n(dbs - noFile.size()) + " .sqlite files" + (noFile.isEmpty() ? "" : " (missing: " + String.join(", ", noFile)
                + (devWithout.isEmpty() ? "" : "; dev questions on " + String.join(", ", devWithout) + " cannot be scored") + ")") + ", dev " + n(dev)
                + " questions, train " + n(ts + to) + " (" + n(ts) + " + " + n(to) + ")";
        return Result.ok(detail);
    }

    static Result wikisql(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return Result.missing(dir);
        for (String f : List.of("dev.jsonl", "dev.tables.jsonl", "train.jsonl", "train.tables.jsonl")) {
            if (!Files.isRegularFile(dir.resolve(f))) return Result.missing(dir.resolve(f));
        }
        WikiSql w = WikiSql.open(dir);
        WikiSql.Loaded dev = w.examples("dev"), train = w.examples("train");
        int devTables = w.tables("dev").size(), trainTables = w.tables("train").size();
        List<String> wrong = new ArrayList<>();
        if (dev.examples().size() != WIKISQL_DEV || !dev.skipped().isEmpty()) {
            wrong.add("dev.jsonl has " + n(dev.examples().size()) + " questions with a table (" + n(dev.skipped().size()) + " without), not " + n(WIKISQL_DEV));
        }
        if (devTables != WIKISQL_DEV_TABLES) wrong.add("dev.tables.jsonl has " + n(devTables) + " tables, not " + n(WIKISQL_DEV_TABLES));
        if (train.examples().size() < WIKISQL_TRAIN_MIN || train.examples().size() > WIKISQL_TRAIN) {
            wrong.add("train.jsonl has " + n(train.examples().size()) + " questions with a table; the official file has " + n(WIKISQL_TRAIN));
        }
        if (!wrong.isEmpty()) return Result.bad(String.join("; ", wrong));
        return Result.ok("dev " + n(dev.examples().size()) + " questions / " + n(devTables) + " tables, train " + n(train.examples().size())
                + " questions / " + n(trainTables) + " tables" + (train.examples().size() == WIKISQL_TRAIN ? "" : " (the official train has " + n(WIKISQL_TRAIN) + ")"));
    }

    static long lines(Path f) throws IOException {
        try (Stream<String> s = Files.lines(f, StandardCharsets.UTF_8)) {
            return s.count();
        }
    }

    /**
     * When {@code dir/SHA256SUMS} exists (sha256sum's format, paths relative to {@code dir}): per data set (the first
     * folder of each path), the problems found (a missing file, a wrong checksum) followed by a count of files checked.
     */
    static Map<String, List<String>> checksums(Path dir) {
        Path sums = dir.resolve("SHA256SUMS");
        Map<String, List<String>> problems = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        if (!Files.isRegularFile(sums)) return Map.of();
        try (BufferedReader r = Files.newBufferedReader(sums, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) continue;
                String[] parts = line.split("\\s+\\*?", 2);
                if (parts.length != 2 || !parts[0].matches("[0-9a-fA-F]{64}")) continue;
                String name = parts[1].strip().replaceFirst("^\\./", "");
                int slash = name.indexOf('/');
                if (slash < 0) continue; // a file of the folder itself (README.md)
                String set = name.substring(0, slash);
                counts.merge(set, 1, Integer::sum);
                List<String> p = problems.computeIfAbsent(set, k -> new ArrayList<>());
                Path f = dir.resolve(name);
                if (!Files.isRegularFile(f)) p.add("SHA256SUMS lists " + name + ", which is missing");
                else if (!sha256(f).equalsIgnoreCase(parts[0])) p.add(name + " does not match its SHA256SUMS checksum");
            }
        } catch (IOException e) {
            throw new CliException("cannot read " + sums + ": " + e.getMessage(), e);
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        problems.forEach((set, p) -> {
            List<String> l = new ArrayList<>(p);
            l.add(n(counts.get(set)) + (counts.get(set) == 1 ? " file matches" : " files match"));
            out.put(set, l);
        });
        return out;
    }

    static String sha256(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int k; (k = in.read(buf)) > 0; ) md.update(buf, 0, k);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
