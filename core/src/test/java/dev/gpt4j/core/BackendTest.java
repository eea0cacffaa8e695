package dev.gpt4j.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The backend loads quietly, and a backend that cannot run is one line that says what to do. */
class BackendTest {
    @Test
    void theCpuBackendLoads() {
        assertEquals("CpuBackend", Backend.load());
        assertEquals(Compute.JAVA, Compute.choose(org.nd4j.linalg.api.buffer.DataType.FLOAT));
        assertEquals(Compute.ND4J, Compute.choose(org.nd4j.linalg.api.buffer.DataType.DOUBLE));
    }

    @Test
    void aCudaBuildWithoutNativesIsExplainedInOneLine() {
        // what ND4J 1.0.0-M2.1 prints when nd4j-cuda is on the class path without org.bytedeco.cuda
        String probe = "java.lang.ClassNotFoundException: org.bytedeco.cuda.global.cudart\n\tat java.base/...\n"
                + "WARN org.nd4j.linalg.factory.Nd4jBackend - Skipped [JCublasBackend] backend (unavailable)\n";
        String m = Backend.explain(probe, new ExceptionInInitializerError(new RuntimeException("Please ensure that you have an nd4j backend")));
        assertEquals(1, m.lines().count(), m);
        assertTrue(m.contains("-Pcuda,cuda-native") && m.contains("without -Pcuda"), m);
        String other = Backend.explain("", new RuntimeException(new UnsatisfiedLinkError("no jnind4jcpu in java.library.path\nmore")));
        assertEquals("no ND4J backend can run (no jnind4jcpu in java.library.path); the CPU backend comes with the default build "
                + "(mvn -DskipTests package)", other);
    }

    /** /proc/cpuinfo's first lines for one core, as Linux writes them. */
    private static String cpuinfo(String vendor, int family, String flags) {
        return "processor\t: 0\nvendor_id\t: " + vendor + "\ncpu family\t: " + family + "\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n"
                + "flags\t\t: fpu vme " + flags + " xsave\nbugs\t\t: sysret_ss_attrs\n\nprocessor\t: 1\nvendor_id\t: " + vendor + "\n";
    }

    @Test
    void aCpuThatNd4jsOpenBlasDoesNotKnowGetsOneLineNamingTheKernels() {
        String zen5 = cpuinfo("AuthenticAMD", 26, "sse2 avx fma avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16");
        String m = Backend.openBlasAdvice(zen5, null);
        assertNotNull(m);
        assertEquals(1, m.lines().count(), m);
        assertTrue(m.contains("OPENBLAS_CORETYPE=SKYLAKEX") && m.contains("family 26"), m);
        assertEquals(m, Backend.openBlasAdvice(zen5, " "), "a blank variable has not chosen");
        assertNull(Backend.openBlasAdvice(zen5, "Haswell"), "the environment has chosen");
        String avx2Only = cpuinfo("AuthenticAMD", 27, "sse2 avx fma avx2");
        assertTrue(Backend.openBlasAdvice(avx2Only, null).contains("OPENBLAS_CORETYPE=HASWELL"));
        assertNull(Backend.openBlasAdvice(cpuinfo("AuthenticAMD", 26, "sse2 avx"), null), "nothing better than the fallback");
        assertNull(Backend.openBlasAdvice(cpuinfo("AuthenticAMD", 25, "avx2 fma avx512f avx512dq avx512bw avx512vl"), null), "Zen 4 and older");
        assertNull(Backend.openBlasAdvice(cpuinfo("GenuineIntel", 6, "avx2 fma avx512f avx512dq avx512bw avx512vl"), null));
        assertNull(Backend.openBlasAdvice("processor : 0\n", null));
        assertNull(Backend.openBlasAdvice(null, null));
    }
}
