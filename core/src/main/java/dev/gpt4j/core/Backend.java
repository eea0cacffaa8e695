package dev.gpt4j.core;

import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * ND4J's backend, loaded once, with what ND4J prints while it probes the backends kept from the user. ND4J tries every
 * backend on the class path and prints a stack trace for each one that cannot run (the CUDA backend without its
 * natives prints 30 lines), then either goes on with another or fails with an ExceptionInInitializerError. Here the
 * probe's output is captured: it is dropped when a backend loads, and summed up in one line when none does.
 */
public final class Backend {
    private static volatile String name;

    private Backend() {}

    /** The backend's class name (e.g. CpuBackend), loading it on first use; one-line error if none can run. */
    public static String load() {
        String n = name;
        if (n != null) return n;
        synchronized (Backend.class) {
            if (name != null) return name;
            PrintStream err = System.err;
            ByteArrayOutputStream probe = new ByteArrayOutputStream();
            System.setErr(new PrintStream(probe, true, StandardCharsets.UTF_8));
            try {
                name = Nd4j.getBackend().getClass().getSimpleName();
                return name;
            } catch (Throwable e) {
                throw new IllegalStateException(explain(probe.toString(StandardCharsets.UTF_8), e), e);
            } finally {
                System.setErr(err);
            }
        }
    }

    /** One line on why no backend loaded, from what the probe printed and the error. */
    static String explain(String probe, Throwable e) {
        if (probe.contains("JCublasBackend") || probe.contains("org.bytedeco.cuda")) {
            return "no ND4J backend can run: the CUDA backend (nd4j-cuda-11.6) is on the class path without its natives; "
                    + "build with -Pcuda,cuda-native on a machine with CUDA 11.x, or without -Pcuda for the CPU";
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String why = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage().lines().findFirst().orElse("");
        return "no ND4J backend can run (" + why + "); the CPU backend comes with the default build (mvn -DskipTests package)";
    }
}
