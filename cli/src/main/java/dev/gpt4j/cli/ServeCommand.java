package dev.gpt4j.cli;

import dev.gpt4j.server.Limits;
import dev.gpt4j.server.ServedDatabase;
import dev.gpt4j.server.SqlServer;
import dev.gpt4j.server.SqlService;
import dev.gpt4j.sql.AdapterRecord;
import dev.gpt4j.sql.TextToSql;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves the text-to-SQL assistant: a web page, a JSON API, OpenAI-compatible endpoints, and a query log.",
                "With no --db, the example database (examples/employees.db) is served. Stop it with Ctrl+C.",
                "Example: gpt4j serve --db hr=examples/employees.db --schema hr=examples/employees.sql --port 8080"})
final class ServeCommand implements Callable<Integer> {
    static final String EXAMPLE_DB = "examples/employees.db";
    static final String EXAMPLE_SCHEMA = "examples/employees.sql";

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model folder (config.json, model.safetensors, vocab.json, merges.txt). Default: " + ModelOptions.SHIPPED + " in the project.")
    Path model;

    @Option(names = "--db", paramLabel = "NAME=FILE", description = "A SQLite database to answer questions about, under NAME (repeatable). "
            + "Opened read-only for each query. Default: employees=" + EXAMPLE_DB + ".")
    Map<String, Path> dbs = new LinkedHashMap<>();

    @Option(names = "--schema", paramLabel = "NAME=FILE", description = "CREATE TABLE statements for database NAME, shown on the page and read "
            + "by the model (default: the schema SQLite reports).")
    Map<String, Path> schemas = new LinkedHashMap<>();

    @Option(names = "--adapter", paramLabel = "NAME=DIR", description = "A LoRA adapter (PEFT folder) for database NAME's questions; the model "
            + "switches adapters between batches.")
    Map<String, Path> adapters = new LinkedHashMap<>();

    @Option(names = "--no-adapters", description = "Answer with the model alone, even where an adapter learned for a database lies beside it "
            + "(NAME.adapter next to NAME.db or its schema file, as gpt4j adapt makes it); --adapter still applies.")
    boolean noAdapters;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on. Default: ${DEFAULT-VALUE} (this machine only); "
            + "any other needs --token.")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port (0: any free one). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--log", paramLabel = "FILE.db", defaultValue = "gpt4j-queries.db",
            description = "The query log (SQLite; created if missing, kept across restarts). Default: ${DEFAULT-VALUE}.")
    Path log;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Clients must send Authorization: Bearer TOKEN (the page asks for it). "
            + "Default: the GPT4J_TOKEN environment variable, if set.")
    String token;

    @Option(names = "--cors", paramLabel = "ORIGIN", description = "An origin (https://host:port) whose pages may call the API (repeatable; none by default).")
    List<String> cors = new ArrayList<>();

    @Option(names = "--queue", defaultValue = "64", paramLabel = "N", description = "Requests that may wait for the model; more get 503 "
            + "with Retry-After. Default: ${DEFAULT-VALUE}.")
    int queue;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "Questions decoded together. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--model-threads", paramLabel = "N", description = "Threads that run the model, each decoding a batch of its own "
            + "(the weights shared); from 2 on, OpenBLAS runs on one thread. Default: 2 on a machine with 2 or more cores, else 1.")
    Integer modelThreads;

    @Option(names = "--timeout", defaultValue = "30", paramLabel = "SECONDS", description = "Time-out of a request (waiting and decoding). "
            + "Default: ${DEFAULT-VALUE}.")
    int timeout;

    @Option(names = "--max-rows", defaultValue = "1000", paramLabel = "N", description = "Rows of a result. Default: ${DEFAULT-VALUE}.")
    int maxRows;

    @Option(names = "--max-result-bytes", defaultValue = "1048576", paramLabel = "N", description = "Bytes of a result (and of one value in it). "
            + "Default: ${DEFAULT-VALUE}.")
    long maxResultBytes;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if (token == null) token = System.getenv("GPT4J_TOKEN");
        if (token != null && token.isBlank()) throw new CliException("--token is empty");
        Limits limits;
        try {
            limits = Limits.defaults().withQueueCapacity(queue).withBatchSize(batchSize).withRequestTimeout(Duration.ofSeconds(timeout))
                    .withResults(maxRows, maxResultBytes);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        Path home = Path.of(System.getProperty("gpt4j.home", ""));
        Map<String, Path> served = new LinkedHashMap<>(dbs);
        Map<String, Path> ddl = new LinkedHashMap<>(schemas);
        if (served.isEmpty()) {
            served.put("employees", home.resolve(EXAMPLE_DB));
            ddl.putIfAbsent("employees", home.resolve(EXAMPLE_SCHEMA));
        }
        for (String n : ddl.keySet()) if (!served.containsKey(n)) throw new CliException("--schema " + n + ": no --db " + n + "=FILE");
        for (String n : adapters.keySet()) if (!served.containsKey(n)) throw new CliException("--adapter " + n + ": no --db " + n + "=FILE");
        ModelOptions m = new ModelOptions();
        m.model = model;
        String modelName = m.dir().toAbsolutePath().normalize().getFileName().toString();
        SqlServer server;
        try {
            List<ServedDatabase> list = new ArrayList<>();
            for (var e : served.entrySet()) list.add(ServedDatabase.of(e.getKey(), e.getValue(), ddl.get(e.getKey())));
            Map<String, Path> use = new LinkedHashMap<>(adapters);
            if (!noAdapters) {
                // as ask does: NAME.adapter beside the schema file or the database, when learned for that schema
                for (ServedDatabase d : list) {
                    if (use.containsKey(d.name())) continue;
                    AdapterRecord.fittingBeside(d.schema(), line -> spec.commandLine().getErr().println("note: " + d.name() + ": " + line),
                            ddl.get(d.name()), d.file()).ifPresent(dir -> use.put(d.name(), dir));
                }
            }
            if (!SqlServer.isLoopback(host) && token == null) {
                throw new CliException("--host " + host + " is reachable from other machines: give --token TOKEN (or bind 127.0.0.1)");
            }
            TextToSql t2s = m.load();
            SqlService service;
            try {
                SqlService.Builder b = SqlService.builder(t2s).limits(limits).token(token).corsOrigins(cors).modelName(modelName).log(log);
                if (modelThreads != null) b.modelThreads(modelThreads);
                for (ServedDatabase d : list) b.database(d);
                for (var e : use.entrySet()) b.adapter(e.getKey(), e.getValue());
                service = b.build();
            } catch (RuntimeException e) {
                t2s.close();
                throw e;
            }
            server = SqlServer.start(service, host, port);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "gpt4j-serve-stop"));
        String shown = host.contains(":") ? "[" + host + "]" : host;
        out.println("gpt4j serve: http://" + shown + ":" + server.port() + "/  (model " + modelName + "; databases "
                + String.join(", ", served.keySet()) + "; log " + log + (token != null ? "; bearer token required" : "") + ")");
        out.flush();
        stopped.await();
        return 0;
    }
}
