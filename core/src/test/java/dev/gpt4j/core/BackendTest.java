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
}
