package com.example.embed;

import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.sql.SqlAnswer;
import dev.gpt4j.sql.TextToSql;
import dev.gpt4j.server.ServedDatabase;
import dev.gpt4j.server.SqlService;
import io.javalin.Javalin;

import java.nio.file.Path;

/**
 * An application that embeds gpt4j: it asks the shipped model one question about the example database through
 * {@link TextToSql}, then mounts gpt4j's service (the page, the API, the query log) under /sql/ of its own server,
 * next to its own routes.
 *
 * <pre>
 * mvn -q package && java -cp "target/classes:$(mvn -q dependency:build-classpath -Dmdep.outputFile=/dev/stdout)" \
 *     com.example.embed.EmbedExample ../.. 7070
 * </pre>
 */
public final class EmbedExample implements AutoCloseable {
    private final Javalin app;
    private final SqlService service;
    private final String firstAnswer;

    private EmbedExample(Javalin app, SqlService service, String firstAnswer) {
        this.app = app;
        this.service = service;
        this.firstAnswer = firstAnswer;
    }

    /** Starts the application on 127.0.0.1:{@code port} (0: any free one), with the gpt4j project at {@code root}. */
    public static EmbedExample start(Path root, int port, Path log) {
        // 1. the library: a question about a schema, answered in this thread
        TextToSql t2s = TextToSql.load(root.resolve("models/gpt4j-sql"));
        SqlAnswer a = t2s.ask(DdlSchemas.read(root.resolve("examples/employees.sql")), "How many employees are there?");
        System.out.println("TextToSql answered: " + a.sql() + (a.safe() ? "" : "  (refused: " + a.check().reason() + ")"));

        // 2. the service, which owns the model from now on (one thread decodes for every request)
        SqlService service = SqlService.builder(t2s)
                .database(ServedDatabase.of("employees", root.resolve("examples/employees.db"), root.resolve("examples/employees.sql")))
                .log(log)
                .modelName("gpt4j-sql")
                .build();

        // 3. mounted in this application's own server, beside its own routes
        Javalin app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.routes.get("/", ctx -> ctx.result("My application. Ask the database at /sql/"));
            service.mount(config, "/sql");
        }).start("127.0.0.1", port);
        return new EmbedExample(app, service, a.sql());
    }

    public int port() {
        return app.port();
    }

    public String firstAnswer() {
        return firstAnswer;
    }

    @Override
    public void close() {
        app.stop();
        service.close();
    }

    public static void main(String[] args) throws InterruptedException {
        Path root = Path.of(args.length > 0 ? args[0] : "../..");
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 7070;
        EmbedExample e = start(root, port, Path.of("embed-queries.db"));
        Runtime.getRuntime().addShutdownHook(new Thread(e::close));
        System.out.println("http://127.0.0.1:" + e.port() + "/sql/");
        Thread.currentThread().join();
    }
}
