package dev.gpt4j.core.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GgufWriter → GgufFile keeps every value type, every array type and every tensor's bytes, dims and type. */
class GgufRoundTripTest {
    @TempDir
    Path dir;

    /** One key of every scalar type, at its extremes, and one array of every element type (empty ones too). */
    static Map<String, GgufValue> everyValueType() {
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put("u8", GgufValue.u8(255));
        kv.put("i8", GgufValue.i8(-128));
        kv.put("u16", GgufValue.u16(65535));
        kv.put("i16", GgufValue.i16(-32768));
        kv.put("u32", GgufValue.u32(0xFFFF_FFFFL));
        kv.put("i32", GgufValue.i32(Integer.MIN_VALUE));
        kv.put("u64", GgufValue.u64(-1L)); // 2^64 - 1
        kv.put("i64", GgufValue.i64(Long.MIN_VALUE));
        kv.put("f32", GgufValue.f32(-1.5e-7f));
        kv.put("f32.nan", GgufValue.f32(Float.NaN));
        kv.put("f64", GgufValue.f64(Math.PI));
        kv.put("bool.true", GgufValue.bool(true));
        kv.put("bool.false", GgufValue.bool(false));
        kv.put("string", GgufValue.string("ĠSELECT ✓ 😀 \"quoted\"\n"));
        kv.put("string.empty", GgufValue.string(""));
        kv.put("arr.u8", GgufValue.array(GgufValueType.UINT8, 0, 1, 255));
        kv.put("arr.i8", GgufValue.array(GgufValueType.INT8, -128, 0, 127));
        kv.put("arr.u16", GgufValue.array(GgufValueType.UINT16, 0, 65535));
        kv.put("arr.i16", GgufValue.array(GgufValueType.INT16, -32768, 32767));
        kv.put("arr.u32", GgufValue.array(GgufValueType.UINT32, 0, 0xFFFF_FFFFL));
        kv.put("arr.i32", GgufValue.i32Array(1, -1, Integer.MAX_VALUE));
        kv.put("arr.u64", GgufValue.array(GgufValueType.UINT64, 0, -1L));
        kv.put("arr.i64", GgufValue.array(GgufValueType.INT64, Long.MIN_VALUE, Long.MAX_VALUE));
        kv.put("arr.f32", GgufValue.f32Array(0f, -0f, 1e30f, Float.NEGATIVE_INFINITY));
        kv.put("arr.f64", GgufValue.f64Array(1e-300, -2.5));
        kv.put("arr.bool", GgufValue.boolArray(true, false, true));
        kv.put("arr.string", GgufValue.stringArray(List.of("a", "", "Ġthe", "<|endoftext|>", "é✓😀")));
        kv.put("arr.empty.i32", GgufValue.i32Array());
        kv.put("arr.empty.string", GgufValue.stringArray(List.of()));
        return kv;
    }

    @Test
    void everyValueTypeSurvivesInOrder() {
        Map<String, GgufValue> kv = everyValueType();
        Path file = dir.resolve("kv.gguf");
        new GgufWriter().putAll(kv).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(3, f.version());
            assertEquals(new ArrayList<>(kv.keySet()), new ArrayList<>(f.metadata().keySet()), "key order");
            kv.forEach((k, v) -> assertEquals(v, f.get(k), k));
            // typed accessors
            assertEquals(0xFFFF_FFFFL, f.getUInt32("u32"));
            assertEquals(Integer.MIN_VALUE, f.getInt32("i32"));
            assertEquals(-1L, f.getUInt64("u64"));
            assertEquals(Long.MIN_VALUE, f.getInt64("i64"));
            assertEquals(255, f.getInt("u8"));
            assertEquals(-1.5e-7f, f.getFloat32("f32"));
            assertTrue(Float.isNaN(f.getFloat32("f32.nan")));
            assertEquals(Math.PI, f.getFloat64("f64"));
            assertTrue(f.getBool("bool.true"));
            assertEquals("ĠSELECT ✓ 😀 \"quoted\"\n", f.getString("string"));
            assertEquals(List.of("a", "", "Ġthe", "<|endoftext|>", "é✓😀"), f.getStringArray("arr.string"));
            assertArrayEquals(new int[] {1, -1, Integer.MAX_VALUE}, f.getIntArray("arr.i32"));
            assertArrayEquals(new int[] {0, 65535}, f.getIntArray("arr.u16"));
            assertArrayEquals(new long[] {0, -1L}, f.getLongArray("arr.u64"));
            assertArrayEquals(new float[] {0f, -0f, 1e30f, Float.NEGATIVE_INFINITY}, f.getFloatArray("arr.f32"));
            assertArrayEquals(new double[] {1e-300, -2.5}, f.getDoubleArray("arr.f64"));
            assertArrayEquals(new boolean[] {true, false, true}, f.getBoolArray("arr.bool"));
            assertEquals(0, f.getIntArray("arr.empty.i32").length);
            assertEquals(List.of(), f.getStringArray("arr.empty.string"));
            // wrong-type and missing keys are errors naming the file and key
            var e = assertThrows(dev.gpt4j.core.ModelFileException.class, () -> f.getUInt32("i32"));
            assertEquals(file + ": key 'i32' is INT32, not UINT32", e.getMessage());
            e = assertThrows(dev.gpt4j.core.ModelFileException.class, () -> f.getString("nope"));
            assertEquals(file + ": missing key 'nope'", e.getMessage());
            e = assertThrows(dev.gpt4j.core.ModelFileException.class, () -> f.getIntArray("arr.u64"));
            assertTrue(e.getMessage().contains("does not fit a Java int"), e.getMessage());
        }
    }

    @Test
    void tensorsKeepBytesDimsTypesAndLlamaCppsOffsets() {
        ByteBuffer a = bytes(3 * 4 * 4, 1);    // F32 {4, 3}
        ByteBuffer b = bytes(34 * 2 * 5, 2);   // Q8_0 {64, 5}: two blocks a row
        ByteBuffer c = bytes(18 * 3, 3);       // Q4_0 {32, 3}
        ByteBuffer d = bytes(2 * 7, 4);        // F16 {7}: 14 bytes, padding follows
        Path file = dir.resolve("t.gguf");
        new GgufWriter()
                .put("general.architecture", GgufValue.string("test"))
                .addTensor("a", new long[] {4, 3}, GgmlType.F32, a)
                .addTensor("d", new long[] {7}, GgmlType.F16, d)
                .addTensor("b", new long[] {64, 5}, GgmlType.Q8_0, b)
                .addTensor("c", new long[] {32, 3}, GgmlType.Q4_0, out -> out.write(c.array()))
                .write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(List.of("a", "d", "b", "c"), f.tensors().stream().map(GgufFile.TensorInfo::name).toList());
            // llama.cpp requires each offset to be the padded sum of the sizes before it
            long expected = 0;
            for (GgufFile.TensorInfo t : f.tensors()) {
                assertEquals(expected, t.offset(), t.name());
                expected += (t.byteSize() + 31) / 32 * 32;
            }
            assertEquals(0, f.dataOffset() % 32);
            assertEquals(f.dataOffset() + expected, f.fileSize(), "the last tensor is padded too");
            assertArrayEquals(new long[] {64, 5}, f.tensor("b").ne());
            assertEquals(GgmlType.Q8_0, f.tensor("b").type());
            assertEquals(340, f.tensor("b").byteSize());
            for (var e : Map.of("a", a, "b", b, "c", c, "d", d).entrySet()) {
                ByteBuffer got = f.tensorData(e.getKey());
                assertTrue(got.isReadOnly());
                assertEquals(ByteOrder.LITTLE_ENDIAN, got.order());
                assertEquals(e.getValue().rewind(), got, e.getKey());
            }
            assertEquals(Float.intBitsToFloat(f.tensorData("a").getInt(4)), f.tensorData("a").getFloat(4), "little-endian reads");
        }
    }

    @Test
    void customAlignmentIsHonoured() {
        Path file = dir.resolve("aligned.gguf");
        new GgufWriter()
                .put(GgufFile.KEY_ALIGNMENT, GgufValue.u32(256))
                .addTensor("x", new long[] {3}, GgmlType.F32, bytes(12, 5))
                .addTensor("y", new long[] {5}, GgmlType.F32, bytes(20, 6))
                .write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(256, f.alignment());
            assertEquals(0, f.dataOffset() % 256);
            assertEquals(256, f.tensor("y").offset());
            assertEquals(bytes(20, 6), f.tensorData("y"));
        }
    }

    @Test
    void writerRefusesWhatLlamaCppWouldRefuse() {
        GgufWriter w = new GgufWriter().put("k", GgufValue.u32(1));
        assertThrows(IllegalArgumentException.class, () -> w.put("k", GgufValue.u32(2)), "duplicate key");
        assertThrows(IllegalArgumentException.class, () -> w.put(GgufFile.KEY_ALIGNMENT, GgufValue.u32(48)), "alignment not a power of 2");
        assertThrows(IllegalArgumentException.class, () -> w.put(GgufFile.KEY_ALIGNMENT, GgufValue.i32(64)), "alignment not UINT32");
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("q", new long[] {48}, GgmlType.Q8_0, bytes(51, 0)), "ne0 % 32");
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("f", new long[] {4}, GgmlType.F32, bytes(12, 0)), "byte count");
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x".repeat(64), new long[] {1}, GgmlType.F32, bytes(4, 0)), "name >= 64 bytes");
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("z", new long[] {1, 1, 1, 1, 1}, GgmlType.F32, bytes(4, 0)), "5 dims");
        w.addTensor("t", new long[] {1}, GgmlType.F32, bytes(4, 0));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", new long[] {1}, GgmlType.F32, bytes(4, 0)), "duplicate tensor");
        assertThrows(IllegalArgumentException.class, () -> GgufValue.u32(-1));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.array(GgufValueType.UINT8, 256));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.UINT32, null, "7"), "value of the wrong class");
    }

    @Test
    void aCallbackWritingTheWrongByteCountFailsAndLeavesNoFile() {
        Path file = dir.resolve("short.gguf");
        GgufWriter w = new GgufWriter().addTensor("t", new long[] {8}, GgmlType.F32, out -> out.write(new byte[31]));
        var e = assertThrows(IllegalStateException.class, () -> w.write(file));
        assertTrue(e.getMessage().contains("31 bytes written"), e.getMessage());
        assertTrue(Files.notExists(file));
    }

    static ByteBuffer bytes(int n, int seed) {
        ByteBuffer b = ByteBuffer.allocate(n);
        for (int i = 0; i < n; i++) b.put((byte) (i * 31 + seed * 7));
        return b.flip();
    }
}
