package dev.gpt4j.cli;

import dev.gpt4j.server.QueryLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load on {@code gpt4j serve}: a server process of its own on the example database, then 1, 4, 16 ... concurrent
 * clients asking {@code POST /api/ask} (no execution) for a fixed time each, a fraction of malformed requests mixed in;
 * p50/p99 latency, throughput, errors and the server's peak RSS. Then the crash check: load again, {@code kill -9}
 * the server mid-load, reopen its log, and look up every request that got its answer.
 */
@Command(name = "bench-serve", mixinStandardHelpOptions = true,
        description = {"Measures gpt4j serve under load (its own server process on the example database), then kills it with "
                + "kill -9 mid-load and checks that every answered request is in the query log.",
                "Example: gpt4j bench-serve --clients 1,4,16 --seconds 20"})
final class BenchServeCommand implements Callable<Integer> {
    static final List<String> QUESTIONS = List.of("How many employees are there?", "Show me the average salary by department",
            "List the names of all departments", "What is the highest salary?", "Which employees were hired after 2015?",
            "How many projects does each department have?", "List the employees in the Engineering department", "What is the total budget?",
            "Show the names and job titles of all employees", "Which department has the largest budget?", "How many employees have a manager?",
            "List projects that started in 2020", "What is the average budget of departments located in London?",
            "Show employee names ordered by salary", "Count the employees per job title", "Which projects belong to the Sales department?");

    /** Requests a client must refuse with a 4xx: a body, or null for a body-less POST, and the content type. */
    static final List<String> MALFORMED = List.of("{\"database\": \"employees\", \"question\": ", "not json at all",
            "{\"database\": \"nope\", \"question\": \"How many employees?\"}", "{\"database\": \"employees\", \"question\": \"   \"}",
            "{\"database\": \"employees\", \"question\": 42}", "{\"database\": \"employees\", \"questoin\": \"typo\"}", "[1, 2, 3]", "",
            "{\"database\": \"employees\", \"question\": \"" + "x".repeat(5000) + "\"}");

    @Spec
    CommandSpec spec;

    @Option(names = "--clients", defaultValue = "1,4,16", split = ",", paramLabel = "N,N,...", description = "Concurrent clients, one run each. "
            + "Default: ${DEFAULT-VALUE}.")
    List<Integer> clients;

    @Option(names = "--seconds", defaultValue = "20", paramLabel = "S", description = "Length of each run. Default: ${DEFAULT-VALUE}.")
    int seconds;

    @Option(names = "--warmup", defaultValue = "20", paramLabel = "N", description = "Questions asked one by one before measuring. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--warmup-seconds", defaultValue = "6", paramLabel = "S", description = "Then an unmeasured run of this length at each "
            + "client count, so that the JIT has compiled every path (one question at a time, batches, model threads side by side) before "
            + "any run is measured. Default: ${DEFAULT-VALUE}.")
    int warmupSeconds;

    @Option(names = "--malformed", defaultValue = "0.1", paramLabel = "F", description = "Fraction of malformed requests. Default: ${DEFAULT-VALUE}.")
    double malformed;

    @Option(names = "--kill-after", defaultValue = "8", paramLabel = "S", description = "Seconds of 16-client load before kill -9 (0: no "
            + "crash check). Default: ${DEFAULT-VALUE}.")
    int killAfter;

    @Option(names = "--log", paramLabel = "FILE.db", description = "The server's query log. Default: a new file under runs/bench-serve/.")
    Path log;

    @Option(names = "--model", paramLabel = "DIR", description = "Model folder for the server. Default: the shipped model.")
    Path model;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "The server's batch size. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--model-threads", paramLabel = "N", description = "The server's model threads. Default: serve's.")
    Integer modelThreads;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();

    /** What a run measured. */
    record Run(int clients, long ok, long malformedSent, long rejected4xx, long busy503, long server5xx, long transport, double p50, double p99,
               double throughput, long peakRssKb) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path home = Path.of(System.getProperty("gpt4j.home", ""));
        if (log == null) log = home.resolve("runs/bench-serve/queries-" + System.currentTimeMillis() + ".db");
        Files.createDirectories(log.toAbsolutePath().getParent());
        out.println("bench-serve: log " + log + "; " + seconds + " s per run after " + warmupSeconds + " s of warm-up per client count; "
                + Math.round(malformed * 100) + "% malformed");
        out.flush();
        List<Run> runs = new ArrayList<>();
        Server s = startServer();
        try {
            for (int i = 0; i < warmup; i++) ask(s.url, QUESTIONS.get(i % QUESTIONS.size()));
            // unwarmed, one client answered 46 questions/s where it answers 64-72 once the JIT is done: a ratio between a
            // cold run and a warm one measures the JIT, not the server
            if (warmupSeconds > 0) for (int c : new TreeSet<>(clients)) load(s, c, warmupSeconds, null);
            out.printf("%7s %8s %6s %9s %6s %6s %9s %9s %9s %11s %9s%n", "clients", "requests", "ok", "malformed", "4xx", "5xx", "503", "p50 ms",
                    "p99 ms", "answers/s", "peak RSS");
            for (int c : clients) {
                Run r = load(s, c, seconds, null);
                runs.add(r);
                out.printf("%7d %8d %6d %9d %6d %6d %9d %9.1f %9.1f %11.2f %7d MB%n", r.clients, r.ok + r.malformedSent + r.busy503, r.ok,
                        r.malformedSent, r.rejected4xx, r.server5xx, r.busy503, r.p50, r.p99, r.throughput, r.peakRssKb / 1024);
                out.flush();
            }
        } finally {
            if (killAfter <= 0) s.process.destroy();
        }
        boolean pass = true;
        Run one = runs.stream().filter(r -> r.clients == 1).findFirst().orElse(null);
        Run sixteen = runs.stream().filter(r -> r.clients == 16).findFirst().orElse(null);
        if (one != null) {
            out.printf("floor: p50 at 1 client %.1f ms <= 150 ms: %s%n", one.p50, one.p50 <= 150 ? "yes" : "NO");
            pass &= one.p50 <= 150;
        }
        if (one != null && sixteen != null) {
            double ratio = sixteen.throughput / Math.max(1e-9, one.throughput);
            out.printf("floor: throughput at 16 clients %.2fx that at 1 >= 3x: %s%n", ratio, ratio >= 3 ? "yes" : "NO");
            pass &= ratio >= 3;
        }
        long fiveXX = runs.stream().mapToLong(Run::server5xx).sum();
        out.println("floor: no 5xx from malformed input: " + (fiveXX == 0 ? "yes" : "NO (" + fiveXX + ")"));
        pass &= fiveXX == 0;
        if (killAfter > 0) {
            Map<Long, String> answered = new ConcurrentHashMap<>();
            Thread killer = new Thread(() -> {
                try {
                    Thread.sleep(killAfter * 1000L);
                } catch (InterruptedException e) {
                    return;
                }
                s.process.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
            });
            killer.start();
            Run r = load(s, 16, killAfter + 5, answered);
            killer.join();
            s.process.waitFor(10, TimeUnit.SECONDS);
            long missing = 0, wrong = 0;
            try (QueryLog q = QueryLog.open(log)) {
                for (var e : answered.entrySet()) {
                    QueryLog.Row row = q.get(e.getKey());
                    if (row == null) missing++;
                    else if (!e.getValue().equals(row.get("question"))) wrong++;
                }
                out.printf("kill -9 after %d s of 16 clients: %d answered (%d ok before the kill), %d of them missing from the log, %d logged "
                        + "with another question; the log holds %d rows%n", killAfter, answered.size(), r.ok, missing, wrong, q.count());
            }
            out.println("floor: zero answered-but-unlogged requests: " + (missing == 0 && wrong == 0 ? "yes" : "NO"));
            pass &= missing == 0 && wrong == 0;
        }
        out.println(pass ? "bench-serve: every floor met" : "bench-serve: some floor NOT met (see above; was the machine quiet?)");
        out.flush();
        return 0;
    }

    /** The server process and its base URL. */
    record Server(Process process, String url) {}

    private Server startServer() throws IOException, InterruptedException {
        int port;
        try (ServerSocket ss = new ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) cmd.add(a);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Gpt4jCommand.class.getName(), "serve", "--port", String.valueOf(port),
                "--log", log.toString(), "--queue", "256", "--batch-size", String.valueOf(batchSize)));
        if (model != null) cmd.addAll(List.of("--model", model.toString()));
        if (modelThreads != null) cmd.addAll(List.of("--model-threads", modelThreads.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        Pattern ready = Pattern.compile("gpt4j serve: (http://\\S+?)/ ");
        while ((line = r.readLine()) != null) {
            Matcher m = ready.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        while (r.readLine() != null) { /* the server's own messages: not part of the measurement */ }
                    } catch (IOException ignored) {
                        // the server was killed
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return new Server(p, m.group(1));
            }
            spec.commandLine().getErr().println("server: " + line);
        }
        throw new CliException("the server exited before it listened (exit code " + p.waitFor() + ")");
    }

    private HttpResponse<String> ask(String url, String question) throws IOException, InterruptedException {
        String body = "{\"database\": \"employees\", \"question\": \"" + question.replace("\"", "\\\"") + "\", \"execute\": false}";
        return post(url, body);
    }

    private HttpResponse<String> post(String url, String body) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/api/ask")).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private static final Pattern ID = Pattern.compile("^\\{\"id\":(\\d+),");

    /** {@code n} clients for {@code secs} seconds; {@code answered} (if given) collects id → question of every 200. */
    private Run load(Server s, int n, int secs, Map<Long, String> answered) throws InterruptedException {
        long end = System.nanoTime() + secs * 1_000_000_000L;
        List<long[]> lat = new ArrayList<>();
        AtomicLong ok = new AtomicLong(), bad = new AtomicLong(), r4 = new AtomicLong(), busy = new AtomicLong(), r5 = new AtomicLong(),
                transport = new AtomicLong();
        CountDownLatch done = new CountDownLatch(n);
        long t0 = System.nanoTime();
        long[] peak = {0};
        long pid = s.process.pid();
        Thread rss = new Thread(() -> {
            while (done.getCount() > 0) {
                peak[0] = Math.max(peak[0], rssKb(pid));
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        rss.setDaemon(true);
        rss.start();
        for (int c = 0; c < n; c++) {
            int client = c;
            long[] mine = new long[1 << 16];
            synchronized (lat) {
                lat.add(mine);
            }
            new Thread(() -> {
                Random rnd = new Random(client * 7919L + n);
                int k = 0;
                try {
                    while (System.nanoTime() < end && s.process.isAlive()) {
                        boolean isBad = rnd.nextDouble() < malformed;
                        String q = QUESTIONS.get(rnd.nextInt(QUESTIONS.size()));
                        long a = System.nanoTime();
                        HttpResponse<String> res;
                        try {
                            res = isBad ? post(s.url, MALFORMED.get(rnd.nextInt(MALFORMED.size()))) : ask(s.url, q);
                        } catch (IOException e) {
                            transport.incrementAndGet();
                            continue;
                        }
                        long ns = System.nanoTime() - a;
                        int st = res.statusCode();
                        if (isBad) {
                            bad.incrementAndGet();
                            if (st >= 400 && st < 500) r4.incrementAndGet();
                            else if (st == 503) busy.incrementAndGet();
                            else if (st >= 500) r5.incrementAndGet();
                        } else if (st == 200) {
                            ok.incrementAndGet();
                            if (k < mine.length) mine[k++] = ns;
                            if (answered != null) {
                                Matcher m = ID.matcher(res.body());
                                if (m.find()) answered.put(Long.parseLong(m.group(1)), q);
                            }
                        } else if (st == 503) busy.incrementAndGet();
                        else if (st >= 500) r5.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            }).start();
        }
        done.await();
        double wall = (System.nanoTime() - t0) / 1e9;
        long[] all = lat.stream().flatMapToLong(a -> Arrays.stream(a).filter(x -> x > 0)).sorted().toArray();
        double p50 = all.length == 0 ? Double.NaN : all[(int) (0.50 * (all.length - 1))] / 1e6;
        double p99 = all.length == 0 ? Double.NaN : all[(int) Math.ceil(0.99 * (all.length - 1))] / 1e6;
        long hwm = hwmKb(pid);
        return new Run(n, ok.get(), bad.get(), r4.get(), busy.get(), r5.get(), transport.get(), p50, p99, ok.get() / wall, Math.max(peak[0], hwm));
    }

    private static long rssKb(long pid) {
        return statusKb(pid, "VmRSS:");
    }

    private static long hwmKb(long pid) {
        return statusKb(pid, "VmHWM:");
    }

    /** A field of /proc/PID/status in kB (0 where there is no /proc, or the process is gone). */
    private static long statusKb(long pid, String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith(field)) return Long.parseLong(l.substring(field.length()).replace("kB", "").strip());
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux, or the process ended
        }
        return 0;
    }
}
