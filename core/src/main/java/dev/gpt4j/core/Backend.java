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
            } catch (Throwable e) {
                throw new IllegalStateException(explain(probe.toString(StandardCharsets.UTF_8), e), e);
            } finally {
                System.setErr(err);
            }
            if (name.startsWith("Cpu")) {
                String advice = openBlasAdvice(cpuInfo(), System.getenv("OPENBLAS_CORETYPE"));
                if (advice != null) System.err.println(advice);
            }
            return name;
        }
    }

    /**
     * A one-line warning for a CPU that the OpenBLAS of ND4J 1.0.0-M2.1 (0.3.19) does not know, or null: it then runs
     * its oldest x86-64 kernels, without AVX, and every product takes about twice as long. Seen on AMD's Zen 5 (family
     * 1Ah); OpenBLAS reads {@code OPENBLAS_CORETYPE} when it loads, so the fix has to be in the JVM's environment (the
     * {@code gpt4j} launcher sets it). Null too when the environment has chosen already, or the CPU is another.
     */
    static String openBlasAdvice(String cpuinfo, String coreType) {
        if (cpuinfo == null || (coreType != null && !coreType.isBlank())) return null;
        String vendor = field(cpuinfo, "vendor_id"), family = field(cpuinfo, "cpu family"), flags = " " + field(cpuinfo, "flags") + " ";
        int f;
        try {
            f = Integer.parseInt(family.trim());
        } catch (NumberFormatException e) {
            return null;
        }
        if (!vendor.trim().equals("AuthenticAMD") || f < 0x1A) return null;
        String kernels = flags.contains(" avx512bw ") && flags.contains(" avx512vl ") && flags.contains(" avx512dq ") ? "SKYLAKEX"
                : flags.contains(" avx2 ") && flags.contains(" fma ") ? "HASWELL" : null;
        if (kernels == null) return null;
        return "gpt4j: ND4J's OpenBLAS (0.3.19) does not know this CPU (AMD family " + f + ") and runs it without AVX, about 2x slower; "
                + "start the JVM with OPENBLAS_CORETYPE=" + kernels + " in its environment (the gpt4j launcher does)";
    }

    /** The value of the first "name : value" line of /proc/cpuinfo's text, or "". */
    private static String field(String cpuinfo, String key) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(key)) return line.substring(colon + 1);
        }
        return "";
    }

    private static String cpuInfo() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo"));
        } catch (java.io.IOException | RuntimeException e) { // not Linux, or not readable: no advice
            return null;
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
