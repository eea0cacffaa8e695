package dev.gpt4j.server;

import io.javalin.Javalin;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * {@code gpt4j serve}: a {@link SqlService} on its own Javalin server. It binds 127.0.0.1 unless told otherwise, and
 * refuses to bind any other address without a token: the service runs SQL on the served databases for whoever asks.
 */
public final class SqlServer implements AutoCloseable {
    private final SqlService service;
    private final Javalin app;

    private SqlServer(SqlService service, Javalin app) {
        this.service = service;
        this.app = app;
    }

    /**
     * Starts {@code service} on {@code host}:{@code port} (0: any free port). A host that is not a loopback address
     * needs a service that requires a token. The server owns the service from then on: it is closed with the server,
     * or at once if the server cannot start.
     *
     * @throws IllegalArgumentException for a non-loopback host without a token, or a host that does not resolve
     */
    public static SqlServer start(SqlService service, String host, int port) {
        if (!isLoopback(host) && !service.requiresToken()) {
            service.close();
            throw new IllegalArgumentException("--host " + host + " is reachable from other machines: give --token TOKEN so that only "
                    + "clients with it may ask (or bind 127.0.0.1)");
        }
        QueuedThreadPool threads = new QueuedThreadPool(200, 8, 60_000);
        threads.setName("gpt4j-http");
        Javalin app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            config.jetty.threadPool = threads;
            config.http.maxRequestSize = service.limits().maxBodyBytes();
            service.mount(config, "");
            // anything else: the same one-line JSON error as the API's
            config.routes.error(404, ctx -> {
                if (ctx.attribute(SqlService.HANDLED) == null) {
                    ctx.contentType("application/json").result(Json.error("no such endpoint: " + ctx.method() + " " + ctx.path()));
                }
            });
            config.routes.error(405, ctx -> ctx.contentType("application/json").result(Json.error("method not allowed: " + ctx.method() + " " + ctx.path())));
        });
        try {
            app.start(host, port);
        } catch (RuntimeException e) {
            app.stop();
            service.close();
            throw new IllegalArgumentException("cannot listen on " + host + ":" + port + ": " + rootMessage(e), e);
        }
        return new SqlServer(service, app);
    }

    private static String rootMessage(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) e = e.getCause();
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** Whether {@code host} names only this machine (127.0.0.0/8, ::1, localhost). */
    public static boolean isLoopback(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) if (!a.isLoopbackAddress()) return false;
            return true;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--host " + host + " does not resolve", e);
        }
    }

    public int port() {
        return app.port();
    }

    public SqlService service() {
        return service;
    }

    /** Stops listening, then closes the service (model, log). */
    @Override
    public void close() {
        app.stop();
        service.close();
    }
}
