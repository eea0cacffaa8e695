package dev.gpt4j.benchmarks;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/**
 * Whether OpenBLAS gives a row of a product the same bits whatever it is batched with: for the shipped model's product
 * shapes (x[m, in] times W[in, out], random values), the outputs of an sgemm of m rows (1-15) that differ from the same
 * rows in an sgemm of 16, and the outputs of one sgemv per row that differ from the sgemm of 16. OpenBLAS runs on one
 * thread, as each of {@code serve}'s model threads. This is why a decoding step multiplies its few rows one sgemv each
 * (a row then gets its own bits, alone or in any batch), and why an sgemm for a whole batch would make a question's
 * answer depend on the questions beside it.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.gpt4j.benchmarks.BatchBits</pre>
 */
public final class BatchBits {
    private BatchBits() {}

    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112, M = 16;
    /** in, out: c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj and the head (as x W with W [C, V]) of the shipped model. */
    private static final int[][] SHAPES = {{256, 768}, {256, 256}, {256, 1024}, {1024, 256}, {256, 8192}};

    public static void main(String[] args) {
        Nd4j.create(1); // loads the native backend, which sets OpenBLAS's thread count
        Nd4j.factory().blas().setMaxThreads(1);
        Random r = new Random(1);
        System.out.println("outputs that differ from the same rows in an sgemm of " + M + " rows (OpenBLAS on one thread)");
        StringBuilder head = new StringBuilder(String.format("%-12s", "in x out"));
        for (int m = 1; m < M; m++) head.append(String.format(" %7s", "m=" + m));
        System.out.println(head + String.format(" %9s", "sgemv/row"));
        for (int[] s : SHAPES) {
            int in = s[0], out = s[1];
            FloatPointer w = random(r, (long) in * out, 0.05f), x = random(r, (long) M * in, 1f);
            FloatPointer ref = new FloatPointer((long) M * out), y = new FloatPointer((long) M * out);
            sgemm(M, in, out, x, w, ref);
            StringBuilder line = new StringBuilder(String.format("%-12s", in + " x " + out));
            for (int m = 1; m < M; m++) {
                sgemm(m, in, out, x, w, y);
                line.append(String.format(" %7d", differing(ref, y, (long) m * out)));
            }
            for (int row = 0; row < M; row++) {
                openblas_nolapack.cblas_sgemv(ROW_MAJOR, TRANS, in, out, 1f, w, out, x.position((long) row * in), 1, 0f,
                        y.position((long) row * out), 1);
            }
            x.position(0);
            y.position(0);
            System.out.println(line + String.format(" %9d", differing(ref, y, (long) M * out)) + " of " + M * out);
        }
    }

    private static void sgemm(int m, int in, int out, FloatPointer x, FloatPointer w, FloatPointer y) {
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, out, in, 1f, x, in, w, out, 0f, y, out);
    }

    private static FloatPointer random(Random r, long n, float scale) {
        FloatPointer p = new FloatPointer(n);
        for (long i = 0; i < n; i++) p.put(i, (float) r.nextGaussian() * scale);
        return p;
    }

    private static long differing(FloatPointer a, FloatPointer b, long n) {
        long d = 0;
        for (long i = 0; i < n; i++) if (Float.floatToRawIntBits(a.get(i)) != Float.floatToRawIntBits(b.get(i))) d++;
        return d;
    }
}
