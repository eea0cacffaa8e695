package dev.gpt4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.HashMap;
import java.util.Map;

/**
 * The arrays of one forward of R = B*T rows. For training, every layer's arrays are its own and kept for the
 * backward pass, with the loss's and the backward's scratch. For a cached forward, every layer uses the same arrays
 * (the residual stream is updated in place) and only the forward's are there.
 */
final class Activations {
    final int B, T, R, C, V;
    final int[] positions;
    final INDArray idx, embTmp; // the ND4J path's embedding scratch: INT [R], [R, C]
    final INDArray[] x, ln1, ln1Hat, ln1Rstd, qkv, y, attnOut, xa, ln2, ln2Hat, ln2Rstd, fc, th, g, proj, mask1, mask2;
    final Attention.Saved[] att;
    final INDArray lnf, lnfHat, lnfRstd, mean, embMask;
    // training only: the loss on the rows that carry it, packed (fine-tuning puts loss on the SQL only, and the LM
    // head and the cross-entropy then run on those rows instead of all R), and the backward's scratch
    INDArray logits, probs, rowMax, rowSum, weightArr, selIn, selD, dres, dbuf, dtmp, dtmp2, dln, d4a, d4b, dqkv, dy, rowTmp;
    INDArray dembRows, dwpeRows;
    /** Per block and linear layer, what the active adapter's training forward keeps (made on first use). */
    Linear.LoraSaved[][] lora;
    int[] selRows, packedTargets, tokens, targets;
    float[] weights, packedW;
    int rowsWithLoss;
    double weightSum;
    private final Map<Integer, INDArray[]> firstRows = new HashMap<>();

    private final DataType dtype;

    /** Training: B sequences of T positions, every layer's arrays kept (and views of the position gradient's rows). */
    Activations(GptConfig config, DataType dtype, Compute compute, Parameters params, int B, int T) {
        this(config, dtype, compute, params, B, T, null);
    }

    /** A cached forward's R rows as B blocks of T, over the first R rows of {@code s}'s arrays. */
    Activations(Shared s, int B, int T) {
        this(s.config, s.dtype, s.compute, null, B, T, s);
    }

    private Activations(GptConfig config, DataType dtype, Compute compute, Parameters params, int B, int T, Shared s) {
        this.dtype = dtype;
        this.B = B;
        this.T = T;
        this.R = B * T;
        this.C = config.embedDim();
        this.V = config.vocabSize();
        int L = config.layers();
        boolean keep = s == null, drop = keep && config.dropout() > 0;
        positions = new int[R];
        x = new INDArray[L + 1];
        ln1 = new INDArray[L]; ln1Hat = new INDArray[L]; ln1Rstd = new INDArray[L];
        qkv = new INDArray[L]; y = new INDArray[L]; attnOut = new INDArray[L]; xa = new INDArray[L];
        ln2 = new INDArray[L]; ln2Hat = new INDArray[L]; ln2Rstd = new INDArray[L];
        fc = new INDArray[L]; th = new INDArray[L]; g = new INDArray[L]; proj = new INDArray[L];
        mask1 = new INDArray[L]; mask2 = new INDArray[L];
        att = new Attention.Saved[L];
        if (keep) {
            idx = Nd4j.create(DataType.INT, R);
            embTmp = compute == Compute.ND4J ? mk(R, C) : null;
            x[0] = mk(R, C);
            for (int l = 0; l < L; l++) {
                ln1[l] = mk(R, C); ln1Hat[l] = mk(R, C); ln1Rstd[l] = mk(R);
                qkv[l] = mk(R, 3 * C);
                y[l] = mk(R, C);
                att[l] = new Attention.Saved(compute, qkv[l], y[l], B, T, config.heads(), drop);
                attnOut[l] = mk(R, C); xa[l] = mk(R, C);
                ln2[l] = mk(R, C); ln2Hat[l] = mk(R, C); ln2Rstd[l] = mk(R);
                fc[l] = mk(R, 4 * C); th[l] = mk(R, 4 * C); g[l] = mk(R, 4 * C); proj[l] = mk(R, C);
                mask1[l] = drop ? mk(R, C) : null;
                mask2[l] = drop ? mk(R, C) : null;
                x[l + 1] = mk(R, C);
            }
            embMask = drop ? mk(R, C) : null;
            lnf = mk(R, C); lnfHat = mk(R, C); lnfRstd = mk(R); mean = mk(R);
            logits = mk(R, V); probs = mk(R, V); rowMax = mk(R); rowSum = mk(R); weightArr = mk(R);
            dres = mk(R, C); dbuf = mk(R, C); dtmp = mk(R, C); dtmp2 = mk(R, C); dln = mk(R, C);
            d4a = mk(R, 4 * C); d4b = mk(R, 4 * C); dqkv = mk(R, 3 * C); dy = mk(R, C); rowTmp = mk(R);
            selIn = mk(R, C); selD = mk(R, C);
            selRows = new int[R]; packedTargets = new int[R]; weights = new float[R]; packedW = new float[R];
            lora = new Linear.LoraSaved[L][4];
            // views made once: a view made in every step costs native shape buffers every step
            long TC = (long) T * C;
            dembRows = dres.reshape('c', B, TC);
            // (reshape('c', TC) would read 'c' as a dimension: the long varargs overload wins)
            dwpeRows = !params.hasGrads() ? null
                    : params.grad("wpe.weight").get(NDArrayIndex.interval(0, T), NDArrayIndex.all()).reshape('c', 1, TC).reshape(TC);
        } else {
            idx = first(s.idx, R, 1);
            embTmp = s.embTmp == null ? null : first(s.embTmp, R, C);
            INDArray res = first(s.res, R, C), ln = first(s.ln, R, C), hat = first(s.hat, R, C), rstd = first(s.rstd, R, 1);
            INDArray q = first(s.qkv, R, 3 * C), yy = first(s.y, R, C), out = first(s.out, R, C);
            INDArray f = first(s.fc, R, 4 * C), t = first(s.th, R, 4 * C), gg = first(s.g, R, 4 * C);
            java.util.Arrays.fill(x, res);
            java.util.Arrays.fill(xa, res);
            java.util.Arrays.fill(ln1, ln);
            java.util.Arrays.fill(ln2, ln);
            java.util.Arrays.fill(ln1Hat, hat);
            java.util.Arrays.fill(ln2Hat, hat);
            java.util.Arrays.fill(ln1Rstd, rstd);
            java.util.Arrays.fill(ln2Rstd, rstd);
            java.util.Arrays.fill(qkv, q);
            java.util.Arrays.fill(y, yy);
            java.util.Arrays.fill(attnOut, out);
            java.util.Arrays.fill(proj, out);
            java.util.Arrays.fill(fc, f);
            java.util.Arrays.fill(th, t);
            java.util.Arrays.fill(g, gg);
            embMask = null;
            lnf = ln;
            lnfHat = hat;
            lnfRstd = rstd;
            mean = first(s.mean, R, 1);
        }
    }

    private INDArray mk(long... shape) {
        return Nd4j.create(dtype, shape);
    }

    /** What linear layer k of block l keeps of its adapter's forward (training only; null without an adapter there). */
    Linear.LoraSaved lora(int l, int k, Linear linear) {
        if (lora == null || linear.lora() == null) return null;
        if (lora[l][k] == null) lora[l][k] = new Linear.LoraSaved(linear.lora(), R, linear.in(), dtype);
        return lora[l][k];
    }

    /**
     * The first n rows of selIn, selD, logits, probs, rowMax, rowSum, weightArr, made once per n (n = R: the whole
     * buffers). Arrays over the start of the same buffers, not views: ND4J takes slower paths for views.
     */
    INDArray[] firstRows(int n) {
        return firstRows.computeIfAbsent(n, r -> new INDArray[] {
                first(selIn, r, C), first(selD, r, C), first(logits, r, V), first(probs, r, V),
                first(rowMax, r, 1), first(rowSum, r, 1), first(weightArr, r, 1)});
    }

    /** An array over the first {@code rows} rows of {@code a}'s buffer, [rows, cols] ([rows] when cols is 1). */
    static INDArray first(INDArray a, int rows, int cols) {
        return cols == 1 ? Nd4j.create(a.data(), rows) : Nd4j.create(a.data(), rows, cols);
    }

    /** The arrays that cached forwards share: each layer's in turn, for up to {@code rows} rows. */
    static final class Shared {
        final GptConfig config;
        final DataType dtype;
        final Compute compute;
        final int rows, headRows;
        final INDArray idx, embTmp, res, ln, hat, rstd, mean, qkv, y, out, fc, th, g, headIn, logits;
        final Map<Long, Activations> byShape = new HashMap<>();
        final Map<Integer, INDArray[]> heads = new HashMap<>();

        Shared(GptConfig config, DataType dtype, Compute compute, int rows, int headRows) {
            this.config = config;
            this.dtype = dtype;
            this.compute = compute;
            this.rows = rows;
            this.headRows = headRows;
            int C = config.embedDim();
            idx = Nd4j.create(DataType.INT, rows);
            embTmp = compute == Compute.ND4J ? mk(rows, C) : null;
            res = mk(rows, C); ln = mk(rows, C); hat = mk(rows, C); rstd = mk(rows); mean = mk(rows);
            qkv = mk(rows, 3 * C); y = mk(rows, C); out = mk(rows, C);
            fc = mk(rows, 4 * C); th = mk(rows, 4 * C); g = mk(rows, 4 * C);
            headIn = mk(headRows, C);
            logits = mk(headRows, config.vocabSize());
        }

        private INDArray mk(long... shape) {
            return Nd4j.create(dtype, shape);
        }

        Activations acts(int B, int T) {
            return byShape.computeIfAbsent((long) B << 32 | T, k -> new Activations(this, B, T));
        }

        /** [n, C] head input and [n, V] logits over the first n rows. */
        INDArray[] head(int n) {
            return heads.computeIfAbsent(n, k -> new INDArray[] {first(headIn, n, config.embedDim()), first(logits, n, config.vocabSize())});
        }
    }
}
