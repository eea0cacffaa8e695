package dev.gpt4j.core.gguf;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A tiny random-weight GPT-2 (V 300, T 64, C 64, 2 layers, 2 heads) with a trained byte-level tokenizer and the
 * text-to-SQL prompt's special tokens, written as an F32 gpt2 GGUF by GgufWriter + Gpt2Gguf. Everything is
 * deterministic, so the tests can rebuild the same weights and compare them with files llama.cpp derived from this
 * one (the fixtures under src/test/resources/gguf). Run as a program to write the file:
 * {@code java ... dev.gpt4j.core.gguf.TinyGpt2 OUT.gguf [--store-tied-output]} (see benchmarks/llamacpp/README.md).
 */
public final class TinyGpt2 {
    private TinyGpt2() {}

    static final List<String> SPECIALS = List.of(BpeTokenizer.END_OF_TEXT, "<|schema|>", "<|question|>", "<|sql|>");
    static final long SEED = 20261207L;

    private static final String TEXT = String.join("\n",
            "SELECT name FROM singer WHERE age > 20 ORDER BY name;",
            "SELECT count(*) FROM concert WHERE year = 2014;",
            "How many singers are older than twenty? Which concerts were held in 2014?",
            "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id;",
            "The quick brown fox jumps over the lazy dog. The singer sings the song in the concert.");

    public static BpeTokenizer tokenizer() {
        return new BpeTrainer(300, SPECIALS).train(List.of(TEXT, TEXT));
    }

    public static GptConfig config(BpeTokenizer tok) {
        return new GptConfig(tok.vocabSize(), 64, 64, 2, 2, 0.0, 1e-5, true, true);
    }

    /** 'wide': C 256, 1 layer, T 32: rows of 256 values, so that llama.cpp's Q4_0 stores the tied head as Q6_K. */
    public static GptConfig wideConfig(BpeTokenizer tok) {
        return new GptConfig(tok.vocabSize(), 32, 256, 1, 2, 0.0, 1e-5, true, true);
    }

    /** Weights by gpt4j / Hugging Face name in gpt4j's layout (Conv1D weights [in][out]), row-major. */
    public static Map<String, float[]> weights(GptConfig c, long seed) {
        Random r = new Random(seed);
        int V = c.vocabSize(), T = c.contextLength(), C = c.embedDim();
        Map<String, float[]> w = new LinkedHashMap<>();
        w.put("wte.weight", gaussian(r, V * C, 0, 0.5f));
        w.put("wpe.weight", gaussian(r, T * C, 0, 0.1f));
        for (int l = 0; l < c.layers(); l++) {
            String h = "h." + l + ".";
            w.put(h + "ln_1.weight", gaussian(r, C, 1, 0.1f));
            w.put(h + "ln_1.bias", gaussian(r, C, 0, 0.1f));
            w.put(h + "attn.c_attn.weight", gaussian(r, C * 3 * C, 0, 0.2f));
            w.put(h + "attn.c_attn.bias", gaussian(r, 3 * C, 0, 0.1f));
            w.put(h + "attn.c_proj.weight", gaussian(r, C * C, 0, 0.2f));
            w.put(h + "attn.c_proj.bias", gaussian(r, C, 0, 0.1f));
            w.put(h + "ln_2.weight", gaussian(r, C, 1, 0.1f));
            w.put(h + "ln_2.bias", gaussian(r, C, 0, 0.1f));
            w.put(h + "mlp.c_fc.weight", gaussian(r, C * 4 * C, 0, 0.2f));
            w.put(h + "mlp.c_fc.bias", gaussian(r, 4 * C, 0, 0.1f));
            w.put(h + "mlp.c_proj.weight", gaussian(r, 4 * C * C, 0, 0.1f));
            w.put(h + "mlp.c_proj.bias", gaussian(r, C, 0, 0.1f));
        }
        w.put("ln_f.weight", gaussian(r, C, 1, 0.1f));
        w.put("ln_f.bias", gaussian(r, C, 0, 0.1f));
        if (!c.tiedHead()) w.put("lm_head.weight", gaussian(r, V * C, 0, 0.5f));
        return w;
    }

    private static float[] gaussian(Random r, int n, float mean, float std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = mean + std * (float) r.nextGaussian();
        return a;
    }

    /** The F32 gpt2 GGUF of these weights: what a GGUF exporter writes (the same keys and layout). */
    public static GgufWriter writer(BpeTokenizer tok, GptConfig c, Map<String, float[]> w, boolean storeTiedOutput) {
        GgufWriter out = new GgufWriter()
                .putAll(Gpt2Gguf.hyperParameters(c, "gpt4j-tiny-gpt2", GgmlType.F32))
                .putAll(Gpt2Gguf.tokenizerMetadata(tok));
        for (String g : Gpt2Gguf.ggufTensorNames(c, storeTiedOutput)) {
            String hf = g.equals("output.weight") && c.tiedHead() ? "wte.weight" : Gpt2Gguf.hfName(g);
            float[] values = Gpt2Gguf.toGgufLayout(hf, w.get(hf), c);
            out.addTensor(g, Gpt2Gguf.ggufDims(g, c), GgmlType.F32, f32(values));
        }
        return out;
    }

    static ByteBuffer f32(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b;
    }

    /**
     * {@code TinyGpt2 OUT.gguf [--store-tied-output] [--wide]} writes the F32 file ({@code --wide}: {@link #wideConfig});
     * {@code TinyGpt2 --extract IN.gguf TENSOR OUT.gguf} copies one tensor of a file (its type and bytes as they are)
     * into a file of its own (the Q6_K fixture: one tensor of a llama.cpp file too large to commit whole).
     */
    public static void main(String[] args) {
        if (args.length == 4 && args[0].equals("--extract")) {
            try (GgufFile in = GgufFile.open(Path.of(args[1]))) {
                GgufFile.TensorInfo t = in.tensor(args[2]);
                new GgufWriter().put("general.source", GgufValue.string(Path.of(args[1]).getFileName().toString()))
                        .addTensor(t.name(), t.ne(), t.type(), in.tensorData(t.name())).write(Path.of(args[3]));
                System.out.println("wrote " + args[3] + ": " + t);
            }
            return;
        }
        if (args.length < 1) {
            System.err.println("usage: TinyGpt2 OUT.gguf [--store-tied-output] [--wide] | TinyGpt2 --extract IN.gguf TENSOR OUT.gguf");
            System.exit(2);
        }
        BpeTokenizer tok = tokenizer();
        GptConfig c = List.of(args).contains("--wide") ? wideConfig(tok) : config(tok);
        boolean storeTied = List.of(args).contains("--store-tied-output");
        writer(tok, c, weights(c, SEED), storeTied).write(Path.of(args[0]));
        System.out.println("wrote " + args[0] + ": " + c + ", " + tok);
    }
}
