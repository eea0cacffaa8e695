package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The token and position embeddings: row r of out [R, C] is wte[token r] + wpe[position r]. Forward for any rows (a
 * training batch at positions 0..T-1, a prompt's chunk after what the cache holds, one new token per sequence);
 * backward for a training batch.
 */
public final class Embedding {
    private Embedding() {}

    /**
     * out[r] = wte[tokens[r]] + wpe[positions[r]] for r &lt; R. {@code idx} and {@code tmp} are scratch for the ND4J
     * path: INT [R] and [R, C].
     */
    public static void forward(Compute compute, INDArray wte, INDArray wpe, int[] tokens, int[] positions, int R, INDArray out,
                               INDArray idx, INDArray tmp) {
        if (compute == Compute.JAVA) {
            int C = (int) out.size(1);
            FloatBuffer fe = Kernels.buf(wte), fp = Kernels.buf(wpe), fo = Kernels.buf(out);
            int oe = (int) wte.offset(), op = (int) wpe.offset(), oo = (int) out.offset();
            Kernels.parallel(R, 64, (from, to) -> {
                float[] row = new float[C], pos = new float[C];
                for (int r = from; r < to; r++) {
                    fe.get(oe + tokens[r] * C, row, 0, C);
                    fp.get(op + positions[r] * C, pos, 0, C);
                    for (int c = 0; c < C; c++) row[c] += pos[c];
                    fo.put(oo + r * C, row, 0, C);
                }
            });
            return;
        }
        idx.data().setData(Arrays.copyOf(tokens, R));
        Nd4j.exec(DynamicCustomOp.builder("gather").addInputs(wte, idx).addOutputs(out).addIntegerArguments(0).build());
        idx.data().setData(Arrays.copyOf(positions, R));
        Nd4j.exec(DynamicCustomOp.builder("gather").addInputs(wpe, idx).addOutputs(tmp).addIntegerArguments(0).build());
        out.addi(tmp);
    }

    /**
     * The gradient of a training batch of B rows of T positions (0..T-1) each: dwte[token] += the sum of the rows of
     * demb [B*T, C] at that token's positions; dwpe[t] += the sum over the batch of the rows at position t.
     * {@code dembRows} is demb as [B, T*C] and {@code dwpeRows} the first T rows of dwpe as [T*C] (views made once by
     * the caller: a view made in every step costs native shape buffers in every step).
     *
     * <p>Each token's rows are summed in double and in position order, and the sum added to its gradient row once. Not
     * ND4J's scatter_add over all rows: its threads sum the rows of a repeated token in a varying order, and they do
     * not lock a row they update, so two threads adding to the same row can lose one of the two updates. (An earlier
     * version passed distinct ids but padded them with zero rows on id 0; those raced with token 0's real row and lost
     * its gradient in about 0.3% of the calls; a kill -9 resume test caught it in CI as a difference in wte[0][0].)
     */
    public static void backward(Compute compute, INDArray demb, INDArray dembRows, int[] tokens, int B, int T, INDArray dwte,
                                INDArray dwpeRows, Scratch s) {
        int BT = B * T, C = (int) demb.size(1);
        long[] order = s.order(BT); // (token << 32 | position), sorted: by token, then by position
        for (int i = 0; i < BT; i++) order[i] = ((long) tokens[i] << 32) | i;
        Arrays.sort(order, 0, BT);
        int[] uniq = s.unique(BT);
        int U = 0, prev = -1;
        for (int k = 0; k < BT; k++) {
            int t = tokens[(int) order[k]];
            if (t != prev) uniq[U++] = prev = t;
        }
        if (compute == Compute.JAVA) {
            tokenSumsJava(demb, tokens, order, BT, C, uniq, U, dwte, s);
        } else {
            tokenSumsNd4j(demb, tokens, order, BT, uniq, U, dwte);
        }
        // dwpe[0..T) as one [T*C] row += the column sums of demb as [B, T*C]
        Linear.addColumnSums(compute, dembRows, dwpeRows);
    }

    /** The token sums in Java on the native buffers (FLOAT or DOUBLE), in double, in position order. */
    private static void tokenSumsJava(INDArray demb, int[] tokens, long[] order, int BT, int C, int[] uniq, int U, INDArray dwte,
                                      Scratch s) {
        boolean dbl = demb.dataType() == DataType.DOUBLE;
        ByteBuffer in = demb.data().asNio().order(ByteOrder.nativeOrder());
        double[] src = s.src(BT * C), acc = s.acc(U * C);
        long inOff = demb.offset();
        if (dbl) {
            DoubleBuffer d = in.asDoubleBuffer();
            for (int i = 0; i < BT * C; i++) src[i] = d.get((int) (inOff + i));
        } else {
            FloatBuffer f = in.asFloatBuffer();
            for (int i = 0; i < BT * C; i++) src[i] = f.get((int) (inOff + i));
        }
        Arrays.fill(acc, 0, U * C, 0.0);
        int seg = -1, prev = -1;
        for (int k = 0; k < BT; k++) {
            int pos = (int) order[k];
            if (tokens[pos] != prev) {
                seg++;
                prev = tokens[pos];
            }
            int o = seg * C, p = pos * C;
            for (int c = 0; c < C; c++) acc[o + c] += src[p + c];
        }
        if (dwte.ordering() != 'c' || !org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(dwte)) {
            throw new IllegalStateException("the wte gradient is not a dense row-major view: " + dwte.shapeInfoToString());
        }
        long base = dwte.offset();
        ByteBuffer gb = dwte.data().asNio().order(ByteOrder.nativeOrder());
        if (dbl) {
            DoubleBuffer d = gb.asDoubleBuffer();
            for (int u = 0; u < U; u++) {
                int at = (int) (base + (long) uniq[u] * C), o = u * C;
                for (int c = 0; c < C; c++) d.put(at + c, d.get(at + c) + acc[o + c]);
            }
        } else {
            FloatBuffer f = gb.asFloatBuffer();
            for (int u = 0; u < U; u++) {
                int at = (int) (base + (long) uniq[u] * C), o = u * C;
                for (int c = 0; c < C; c++) f.put(at + c, f.get(at + c) + (float) acc[o + c]);
            }
        }
    }

    /**
     * The token sums as ND4J ops, for a backend whose arrays stay off the Java heap: sums [U, C] = S @ demb with S the
     * 0/1 matrix [U, B*T] of which row belongs to which distinct token (one product, each sum in one fixed order), then
     * one scatter_add into the U distinct rows of dwte (no index repeats, so no lost update).
     */
    private static void tokenSumsNd4j(INDArray demb, int[] tokens, long[] order, int BT, int[] uniq, int U, INDArray dwte) {
        INDArray sel = Nd4j.zeros(demb.dataType(), U, BT);
        int seg = -1, prev = -1;
        for (int k = 0; k < BT; k++) {
            int pos = (int) order[k];
            if (tokens[pos] != prev) {
                seg++;
                prev = tokens[pos];
            }
            sel.putScalar(seg, pos, 1.0);
        }
        INDArray sums = Nd4j.create(demb.dataType(), U, demb.size(1));
        Nd4j.gemm(sel, demb, sums, false, false, 1.0, 0.0);
        INDArray idx = Nd4j.createFromArray(Arrays.copyOf(uniq, U));
        Nd4j.exec(DynamicCustomOp.builder("scatter_add").addInputs(dwte, idx, sums).addOutputs(dwte).build());
    }

    /** Heap scratch for {@link #backward}, grown to the largest batch seen and kept. */
    public static final class Scratch {
        private long[] order = new long[0];
        private int[] unique = new int[0];
        private double[] src = new double[0], acc = new double[0];

        long[] order(int n) {
            if (order.length < n) order = new long[n];
            return order;
        }

        int[] unique(int n) {
            if (unique.length < n) unique = new int[n];
            return unique;
        }

        double[] src(int n) {
            if (src.length < n) src = new double[n];
            return src;
        }

        double[] acc(int n) {
            if (acc.length < n) acc = new double[n];
            return acc;
        }
    }
}
