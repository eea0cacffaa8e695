package dev.gpt4j.data;

import java.nio.file.Path;

/**
 * Where the data sets live (a folder holding {@code spider/}, {@code wikisql/}, {@code gpt2/} and {@code text/}, as in
 * {@code ../shared/data}), when a command is not given {@code --data}: the system property {@code gpt4j.data}, else the
 * environment variable {@code GPT4J_DATA}, else {@code ../shared/data} beside the project root (the launcher passes
 * {@code gpt4j.home}), else {@code ../shared/data} from the working folder. The folder need not exist: callers say
 * what is missing.
 */
public final class DataDir {
    /** The environment variable naming the data folder. */
    public static final String ENV = "GPT4J_DATA";
    /** The system property naming the data folder (takes precedence over {@link #ENV}). */
    public static final String PROPERTY = "gpt4j.data";

    private DataDir() {}

    public static Path resolve() {
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank()) return Path.of(prop).toAbsolutePath().normalize();
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) return Path.of(env).toAbsolutePath().normalize();
        String home = System.getProperty("gpt4j.home");
        return (home != null ? Path.of(home) : Path.of("")).toAbsolutePath().resolve("../shared/data").normalize();
    }
}
