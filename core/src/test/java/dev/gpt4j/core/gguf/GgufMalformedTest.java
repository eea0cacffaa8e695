package dev.gpt4j.core.gguf;

import dev.gpt4j.core.ModelFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kind of broken GGUF file is refused by {@link GgufFile#open} with a one-line message that names the file
 * and the problem, and absurd counts or lengths fail at once instead of allocating what they claim.
 */
class GgufMalformedTest {
    @TempDir
    Path dir;

    /** Little-endian GGUF bytes, built field by field so that each test can break exactly one thing. */
    static final class Raw {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Raw bytes(byte... b) {
            out.writeBytes(b);
            return this;
        }

        Raw u8(int v) {
            out.write(v);
            return this;
        }

        Raw u32(long v) {
            return bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        }

        Raw u64(long v) {
            return bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        Raw str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).bytes(b);
        }

        /** "GGUF", version, tensor count, key-value count. */
        Raw header(long version, long tensors, long kvs) {
            return bytes((byte) 'G', (byte) 'G', (byte) 'U', (byte) 'F').u32(version).u64(tensors).u64(kvs);
        }

        /** A tensor info. */
        Raw tensor(String name, long type, long offset, long... ne) {
            str(name).u32(ne.length);
            for (long d : ne) u64(d);
            return u32(type).u64(offset);
        }

        Raw padTo(int align) {
            while (out.size() % align != 0) out.write(0);
            return this;
        }

        Raw zeros(int n) {
            return bytes(new byte[n]);
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }

    private Path write(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    /** Opens the bytes and returns the problem, after checking that it is one line naming the file. */
    private String problem(byte[] content) throws IOException {
        Path p = write("bad.gguf", content);
        ModelFileException e = assertThrows(ModelFileException.class, () -> GgufFile.open(p).close());
        assertEquals(p, e.file());
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage().substring((p + ": ").length());
    }

    private void assertProblem(String expectedPart, byte[] content) throws IOException {
        String problem = problem(content);
        assertTrue(problem.contains(expectedPart), "expected '" + expectedPart + "' in: " + problem);
    }

    /** A valid file: one key, one F32 tensor of 8 values. */
    private static Raw valid() {
        return new Raw().header(3, 1, 1).str("general.name").u32(8).str("ok")
                .tensor("t", 0, 0, 8).padTo(32).zeros(32);
    }

    @Test
    void theValidBaselineOpens() throws IOException {
        Path p = write("ok.gguf", valid().toBytes());
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals("ok", f.getString("general.name"));
            assertEquals(32, f.tensorData("t").remaining());
        }
    }

    @Test
    void badMagic() throws IOException {
        byte[] b = valid().toBytes();
        b[0] = 'P';
        b[1] = 'K';
        assertEquals("bad magic 'PKUF': not a GGUF file (it must start with the bytes 'GGUF')", problem(b));
        assertEquals("truncated in the header: 4 more bytes needed at offset 0 of a 2-byte file", problem(new byte[] {'G', 'G'}));
    }

    @Test
    void missingFile() {
        Path p = dir.resolve("missing.gguf");
        ModelFileException e = assertThrows(ModelFileException.class, () -> GgufFile.open(p));
        assertEquals(p + ": no such file", e.getMessage());
    }

    @Test
    void versions() throws IOException {
        assertEquals("GGUF version 1 is not supported (it has 32-bit counts; convert the file again)",
                problem(new Raw().header(1, 0, 0).toBytes()));
        assertEquals("unknown GGUF version 4 (this reader knows versions 2 and 3)", problem(new Raw().header(4, 0, 0).toBytes()));
        assertEquals("GGUF version 50331648 looks byte-swapped: big-endian GGUF files are not supported",
                problem(new Raw().header(0x0300_0000L, 0, 0).toBytes()));
        // version 2 has version 3's layout for little-endian files: it opens
        byte[] v2 = valid().toBytes();
        v2[4] = 2;
        try (GgufFile f = GgufFile.open(write("v2.gguf", v2))) {
            assertEquals(2, f.version());
            assertEquals("ok", f.getString("general.name"));
        }
    }

    @Test
    void truncationNamesTheSection() throws IOException {
        byte[] b = valid().toBytes();
        assertProblem("truncated in the header", Arrays.copyOf(b, 20));
        // cut inside the key's value string (header 24 + key 8+12 + type 4 + length 8 = 56; the value is 2 bytes)
        assertEquals("truncated in key-value pair 0 ('general.name'): a string of 2 bytes at offset 56, but only 1 are left",
                problem(Arrays.copyOf(b, 57)));
        assertProblem("truncated in key-value pair 0 ('general.name')", Arrays.copyOf(b, 54));
        // cut inside the tensor info (it starts at 58)
        assertProblem("truncated in tensor info 0 ('t')", Arrays.copyOf(b, 58 + 9 + 4 + 3));
        // cut inside the tensor data
        assertProblem("tensor 't' has offset out of range", Arrays.copyOf(b, b.length - 1));
    }

    @Test
    void absurdCountsAndLengthsFailFastWithoutAllocating() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertProblem("absurd key-value count 4611686018427387904", new Raw().header(3, 0, 1L << 62).zeros(64).toBytes());
            assertProblem("absurd tensor count 4611686018427387904", new Raw().header(3, 1L << 62, 0).zeros(64).toBytes());
            assertProblem("absurd tensor count 18446744073709551615", new Raw().header(3, -1L, 0).zeros(64).toBytes());
            assertProblem("absurd string length 4611686018427387904 in key-value pair 0",
                    new Raw().header(3, 0, 1).u64(1L << 62).zeros(64).toBytes());
            assertProblem("absurd array length 4611686018427387904 for key 'a'",
                    new Raw().header(3, 0, 1).str("a").u32(9).u32(5).u64(1L << 62).zeros(64).toBytes());
            // a string array: each element needs at least its 8-byte length
            assertProblem("absurd array length 100 for key 'a'",
                    new Raw().header(3, 0, 1).str("a").u32(9).u32(8).u64(100).zeros(64).toBytes());
            assertProblem("tensor 't' has absurd dimensions [4294967296, 4294967296, 4294967296]",
                    new Raw().header(3, 1, 0).tensor("t", 0, 0, 1L << 32, 1L << 32, 1L << 32).zeros(64).toBytes());
            assertProblem("tensor 't' has absurd dimension ne[0] = 18446744073709551615",
                    new Raw().header(3, 1, 0).tensor("t", 0, 0, -1L).zeros(64).toBytes());
        });
    }

    @Test
    void tensorTypes() throws IOException {
        assertEquals("tensor 't' has unknown ggml type id 99", problem(new Raw().header(3, 1, 0).tensor("t", 99, 0, 32).padTo(32).zeros(128).toBytes()));
        assertEquals("tensor 't' has unknown ggml type id 4", problem(new Raw().header(3, 1, 0).tensor("t", 4, 0, 32).padTo(32).zeros(128).toBytes()),
                "ids ggml removed are unknown");
        assertEquals("tensor 't' has rows of 48 elements, not a multiple of Q8_0's block of 32",
                problem(new Raw().header(3, 1, 0).tensor("t", 8, 0, 48).padTo(32).zeros(128).toBytes()));
        assertEquals("tensor 't' has 5 dimensions (GGUF allows 1 to 4)",
                problem(new Raw().header(3, 1, 0).tensor("t", 0, 0, 1, 1, 1, 1, 1).padTo(32).zeros(32).toBytes()));
        // a known type gpt4j cannot decode opens, and is refused by name when asked for
        Path p = write("q5k.gguf", new Raw().header(3, 1, 0).tensor("t", 13, 0, 256).padTo(32).zeros(176).toBytes());
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(GgmlType.Q5_K, f.tensor("t").type());
            assertEquals(176, f.tensor("t").byteSize());
            ModelFileException e = assertThrows(ModelFileException.class, () -> f.requireSupported("t"));
            assertEquals(p + ": tensor 't' has unsupported type Q5_K (id 13) (gpt4j reads F32, F16, Q8_0, Q4_0 and Q6_K)", e.getMessage());
        }
    }

    @Test
    void offsets() throws IOException {
        assertEquals("tensor 't' has misaligned offset 16 (not a multiple of the alignment 32)",
                problem(new Raw().header(3, 1, 0).tensor("t", 0, 16, 4).padTo(32).zeros(64).toBytes()));
        assertEquals("tensor 't' has offset out of range: its 16 bytes at offset 1024 end past the data section's 64 bytes (truncated in the tensor data?)",
                problem(new Raw().header(3, 1, 0).tensor("t", 0, 1024, 4).padTo(32).zeros(64).toBytes()));
        assertProblem("tensor 't' has offset out of range: its 16 bytes at offset 18446744073709551584",
                new Raw().header(3, 1, 0).tensor("t", 0, -32L, 4).padTo(32).zeros(64).toBytes());
        // general.alignment is honoured: 16 is aligned for 16
        Path p = write("a16.gguf", new Raw().header(3, 1, 1).str(GgufFile.KEY_ALIGNMENT).u32(4).u32(16)
                .tensor("t", 0, 16, 4).padTo(16).zeros(32).toBytes());
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(16, f.alignment());
            assertEquals(16, f.tensor("t").offset());
        }
        assertEquals("general.alignment = 48 is not a power of two (up to 2^30)",
                problem(new Raw().header(3, 0, 1).str(GgufFile.KEY_ALIGNMENT).u32(4).u32(48).toBytes()));
        assertEquals("general.alignment is INT32, it must be UINT32",
                problem(new Raw().header(3, 0, 1).str(GgufFile.KEY_ALIGNMENT).u32(5).u32(32).toBytes()));
    }

    @Test
    void duplicatesAndBadValues() throws IOException {
        assertEquals("duplicate tensor name 't'", problem(new Raw().header(3, 2, 0)
                .tensor("t", 0, 0, 8).tensor("t", 0, 32, 8).padTo(32).zeros(64).toBytes()));
        assertEquals("duplicate key 'k'", problem(new Raw().header(3, 0, 2).str("k").u32(0).u8(1).str("k").u32(0).u8(2).toBytes()));
        assertEquals("key 'k' has unknown value type 13", problem(new Raw().header(3, 0, 1).str("k").u32(13).zeros(16).toBytes()));
        assertEquals("key 'k' is an array of arrays, which is not supported",
                problem(new Raw().header(3, 0, 1).str("k").u32(9).u32(9).u64(0).zeros(16).toBytes()));
        assertEquals("key 'k' has a BOOL byte 2 (must be 0 or 1)", problem(new Raw().header(3, 0, 1).str("k").u32(7).u8(2).toBytes()));
        assertEquals("a string in key-value pair 0 ('k') is not valid UTF-8",
                problem(new Raw().header(3, 0, 1).str("k").u32(8).u64(2).bytes((byte) 0xC3, (byte) 0x28).toBytes()));
        assertEquals("key-value pair 0 has an empty key", problem(new Raw().header(3, 0, 1).str("").u32(0).u8(0).zeros(8).toBytes()));
        assertEquals("tensor info 0 has an empty name", problem(new Raw().header(3, 1, 0).tensor("", 0, 0, 8).padTo(32).zeros(32).toBytes()));
    }
}
