package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How a model computes, chosen once when it is made: every layer then takes that path, with no test of its arrays
 * at each call.
 *
 * <ul>
 *   <li>{@link #JAVA}: the CPU backend in float32. Hot loops run as Java kernels (the Vector API when the JVM has the
 *       module) on the native buffers of ND4J arrays, matrix products call OpenBLAS's CBLAS directly ({@link Blas}),
 *       the KV cache lives on the Java heap.</li>
 *   <li>{@link #ND4J}: ND4J ops end to end. Any other backend (CUDA: no activation goes through the Java heap), double
 *       precision (the finite-difference gradient checks), or {@code -Dgpt4j.compute=nd4j}. It is also the reference
 *       the Java kernels are tested against, model against model.</li>
 * </ul>
 *
 * <p>The system properties that tune the Java path are read here, once: {@code gpt4j.vector=false} (the scalar loops
 * instead of the Vector API: same bits, slower), {@code gpt4j.gemv=false} (ND4J's gemm for one-row products instead of
 * OpenBLAS's sgemv) and {@code gpt4j.blas.threads=openblas} (OpenBLAS keeps its own threads during training).
 * {@code gpt4j.quant.activations=f32} sets every model's default for Q8_0 and Q4_0 weights at inference to the float
 * activations instead of activations quantized to Q8_0 ({@link GptModel#setQ8Activations}).
 */
public enum Compute {
    JAVA, ND4J;

    /** {@code -Dgpt4j.compute=nd4j} sends every model to the ND4J path (to compare the two in a benchmark). */
    static final boolean FORCE_ND4J = "nd4j".equalsIgnoreCase(System.getProperty("gpt4j.compute"));
    /** The JVM was started with {@code --add-modules jdk.incubator.vector} (the gpt4j script, tests and benchmarks add it). */
    static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    static final boolean VECTOR_WANTED = !"false".equalsIgnoreCase(System.getProperty("gpt4j.vector"));
    static final boolean GEMV_WANTED = !"false".equalsIgnoreCase(System.getProperty("gpt4j.gemv"));
    static final boolean OWN_BLAS_THREADS = !"openblas".equalsIgnoreCase(System.getProperty("gpt4j.blas.threads"));
    /**
     * The default of {@link GptModel#setQ8Activations}: true (llama.cpp's arithmetic) unless
     * {@code -Dgpt4j.quant.activations=f32}.
     */
    static final boolean Q8_ACTIVATIONS = !"f32".equalsIgnoreCase(System.getProperty("gpt4j.quant.activations", "q8_0").trim());

    /** The path for arrays of {@code dtype} on the current ND4J backend. */
    public static Compute choose(DataType dtype) {
        if (FORCE_ND4J || dtype != DataType.FLOAT || !cpuBackend()) return ND4J;
        return JAVA;
    }

    static boolean cpuBackend() {
        Backend.load(); // ND4J's probe of the backends prints stack traces: keep them from the user
        return Nd4j.getBackend().getClass().getName().contains(".cpu.");
    }
}
