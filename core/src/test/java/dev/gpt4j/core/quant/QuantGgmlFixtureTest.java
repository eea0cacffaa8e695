package dev.gpt4j.core.quant;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Q8_0, Q4_0 and F16 bytes against llama.cpp's own code: quant/ggml_quant_fixture.txt holds inputs and what the
 * reference quantizers ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}, {@code ggml_fp32_to_fp16_row})
 * and dequantizers of a released libggml-base.so made of them (core/src/test/python/ggml_quant_fixture.py wrote
 * it). The cases include all-zero blocks (Q4_0 stores d = -0), a block with one huge value, a negative max, equal
 * magnitudes of both signs, exact rounding ties of Q8_0's roundf and Q4_0's +8.5 truncation, Q4_0's clamp at 15,
 * fp16 subnormal and zero scales, scales on an fp16 rounding tie, and F16's edges.
 */
class QuantGgmlFixtureTest {
    record Case(String name, int rows, int cols, Map<String, String> lines) {
        float[] floats(String key) {
            String[] parts = lines.get(key).trim().split(" ");
            float[] f = new float[parts.length];
            for (int i = 0; i < f.length; i++) f[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(parts[i], 16));
            return f;
        }

        byte[] bytes(String key) {
            return HexFormat.of().parseHex(lines.get(key).trim());
        }
    }

    static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        try (InputStream in = QuantGgmlFixtureTest.class.getResourceAsStream("/quant/ggml_quant_fixture.txt")) {
            assertNotNull(in, "quant/ggml_quant_fixture.txt is missing from the test resources");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            Case cur = null;
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) continue;
                int sp = line.indexOf(' ');
                String key = line.substring(0, sp), rest = line.substring(sp + 1);
                if (key.equals("case")) {
                    String[] p = rest.split(" ");
                    cur = new Case(p[0], Integer.parseInt(p[1]), Integer.parseInt(p[2]), new HashMap<>());
                    cases.add(cur);
                } else {
                    cur.lines().put(key, rest);
                }
            }
        }
        return cases;
    }

    @Test
    void theFixtureCoversTheEdgeCases() throws IOException {
        List<Case> cases = cases();
        assertTrue(cases.size() >= 15, "only " + cases.size() + " cases");
        long f16 = cases.stream().filter(c -> c.lines().containsKey("f16")).count();
        assertTrue(f16 >= 10, "F16 bytes for only " + f16 + " cases");
    }

    @Test
    void bytesEqualLlamaCpps() throws IOException {
        for (Case c : cases()) {
            float[] x = c.floats("x");
            assertEquals(c.rows() * c.cols(), x.length, c.name());
            for (QuantType t : new QuantType[] {QuantType.Q8_0, QuantType.Q4_0, QuantType.F16}) {
                if (!c.lines().containsKey(t.id())) continue;
                QuantizedMatrix m = QuantizedMatrix.quantize(t, x, c.rows(), c.cols());
                byte[] expected = c.bytes(t.id());
                assertEquals(expected.length, m.ggmlBytes(), c.name() + " " + t + ": size");
                ByteBuffer out = ByteBuffer.allocate(expected.length);
                m.writeGgml(out);
                assertEquals(expected.length, out.position());
                assertArrayEquals(expected, out.array(), () -> c.name() + " " + t + ": first difference at byte " + firstDifference(expected, out.array()));
            }
        }
    }

    @Test
    void dequantizedValuesEqualLlamaCpps() throws IOException {
        for (Case c : cases()) {
            for (QuantType t : new QuantType[] {QuantType.Q8_0, QuantType.Q4_0, QuantType.F16}) {
                if (!c.lines().containsKey(t.id())) continue;
                float[] expected = c.floats(t.id() + "_deq");
                // ours from ggml's bytes, and ours from our own quantization: the same bits as ggml's dequantizer
                QuantizedMatrix read = QuantizedMatrix.readGgml(t, c.rows(), c.cols(), ByteBuffer.wrap(c.bytes(t.id())));
                assertBitsEqual(expected, read.dequantize(), c.name() + " " + t + " read");
                assertBitsEqual(expected, QuantizedMatrix.quantize(t, c.floats("x"), c.rows(), c.cols()).dequantize(), c.name() + " " + t);
                float[] row = new float[c.cols()];
                read.dequantizeRow(c.rows() - 1, row);
                for (int i = 0; i < c.cols(); i++) {
                    assertEquals(Float.floatToRawIntBits(expected[(c.rows() - 1) * c.cols() + i]), Float.floatToRawIntBits(row[i]), c.name() + " " + t + " last row");
                }
            }
        }
    }

    @Test
    void readThenWriteGivesTheSameBytes() throws IOException {
        for (Case c : cases()) {
            for (QuantType t : new QuantType[] {QuantType.Q8_0, QuantType.Q4_0, QuantType.F16}) {
                if (!c.lines().containsKey(t.id())) continue;
                byte[] bytes = c.bytes(t.id());
                // at an offset in a larger buffer, to check that positions advance and nothing else is touched
                ByteBuffer in = ByteBuffer.allocate(bytes.length + 7);
                in.position(3);
                in.put(bytes);
                in.position(3);
                QuantizedMatrix m = QuantizedMatrix.readGgml(t, c.rows(), c.cols(), in);
                assertEquals(3 + bytes.length, in.position());
                ByteBuffer out = ByteBuffer.allocate(bytes.length + 5);
                out.position(5);
                m.writeGgml(out);
                assertEquals(5 + bytes.length, out.position());
                byte[] back = new byte[bytes.length];
                out.position(5);
                out.get(back);
                assertArrayEquals(bytes, back, c.name() + " " + t);
            }
        }
    }

    static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": value " + i + " is " + actual[i] + ", llama.cpp has " + expected[i]);
            }
        }
    }

    private static int firstDifference(byte[] a, byte[] b) {
        for (int i = 0; i < Math.min(a.length, b.length); i++) if (a[i] != b[i]) return i;
        return Math.min(a.length, b.length);
    }
}
