package dev.gpt4j.core.gguf;

import dev.gpt4j.core.ModelFileException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file opened for reading: its metadata (key-value pairs, in file order), its tensor infos, and each
 * tensor's bytes, read into a read-only little-endian buffer of their own.
 *
 * <pre>
 * "GGUF" · u32 version · u64 tensor count · u64 key-value count
 * key-value pairs: string key · u32 value type · value
 * tensor infos:    string name · u32 n_dims · n_dims × u64 ne[i] · u32 ggml type · u64 offset in the data section
 * zero padding to the alignment, then the data section (each tensor at data start + its offset)
 * </pre>
 * (strings: u64 byte length + UTF-8 bytes; all numbers little-endian.) {@link #open} checks every count, length,
 * type id, dimension, offset and the alignment against the file size before it allocates anything sized by the
 * file, so a corrupt or hostile count fails at once with a {@link ModelFileException} naming the file and the
 * problem. Version 3 is read; version 2 too, as its layout is the same for little-endian files (version 3 only
 * added big-endian files, which are refused); version 1 (32-bit counts) and later versions are refused.
 *
 * <p>Closing the file closes its channel; a tensor buffer already handed out is a copy and stays readable.
 */
public final class GgufFile implements AutoCloseable {
    /** The alignment of the data section and of each tensor when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String KEY_ALIGNMENT = "general.alignment";
    private static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32

    /** Fewest bytes a key-value pair can take: key length, a 1-byte key, value type, a 1-byte value. */
    private static final long MIN_KV_BYTES = 8 + 1 + 4 + 1;
    /** Fewest bytes a tensor info can take: name length, a 1-byte name, n_dims, one dimension, type, offset. */
    private static final long MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8;

    /**
     * One tensor's description.
     *
     * @param name     e.g. {@code blk.0.attn_qkv.weight}
     * @param ne       the dimensions in ggml's order: {@code ne[0]} is the innermost, contiguous one (the length of
     *                 a row), so a row-major {@code [rows][cols]} matrix has {@code ne = {cols, rows}}
     * @param type     the ggml type of its elements
     * @param offset   where its bytes start, relative to the data section
     * @param byteSize how many bytes it takes
     */
    public record TensorInfo(String name, long[] ne, GgmlType type, long offset, long byteSize) {
        public TensorInfo {
            ne = ne.clone();
        }

        @Override
        public long[] ne() {
            return ne.clone();
        }

        /** Number of dimensions (1 to 4). */
        public int nDims() {
            return ne.length;
        }

        /** {@code ne[i]}, or 1 past the last dimension (as ggml pads shapes to 4). */
        public long ne(int i) {
            return i < ne.length ? ne[i] : 1;
        }

        public long elements() {
            long n = 1;
            for (long d : ne) n *= d;
            return n;
        }

        @Override
        public String toString() {
            return name + " " + type + " " + Arrays.toString(ne) + " @" + offset;
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final long fileSize;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, TensorInfo> tensors;
    private final int alignment;
    private final long dataOffset;
    private boolean closed;

    private GgufFile(Path file, FileChannel channel) throws IOException {
        this.file = file;
        this.channel = channel;
        this.fileSize = channel.size();
        Cursor in = new Cursor(file, channel, fileSize);

        in.where = "the header";
        in.need(4);
        int magic = in.i32();
        if (magic != MAGIC) throw fail("bad magic " + describeMagic(magic) + ": not a GGUF file (it must start with the bytes 'GGUF')");
        long v = in.u32();
        if (v != 2 && v != 3) throw fail(versionProblem(v));
        this.version = (int) v;
        long tensorCount = in.u64(), kvCount = in.u64();
        // A count the whole file could not hold is absurd. A smaller one is read entry by entry, each read checked
        // against the file size, so nothing is allocated beyond what the file holds and a cut file says where it ends.
        if (kvCount < 0 || kvCount > fileSize / MIN_KV_BYTES) {
            throw fail("absurd key-value count " + Long.toUnsignedString(kvCount) + ": a " + fileSize
                    + "-byte file holds at most " + fileSize / MIN_KV_BYTES);
        }
        if (tensorCount < 0 || tensorCount > fileSize / MIN_TENSOR_INFO_BYTES) {
            throw fail("absurd tensor count " + Long.toUnsignedString(tensorCount) + ": a " + fileSize
                    + "-byte file holds at most " + fileSize / MIN_TENSOR_INFO_BYTES);
        }

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (int i = 0; i < kvCount; i++) {
            in.where = "key-value pair " + i;
            String key = in.string();
            if (key.isEmpty()) throw fail("key-value pair " + i + " has an empty key");
            if (kv.containsKey(key)) throw fail("duplicate key '" + key + "'");
            in.where = "key-value pair " + i + " ('" + key + "')";
            long typeId = in.u32();
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) throw fail("key '" + key + "' has unknown value type " + typeId);
            kv.put(key, readValue(in, key, type));
        }
        this.metadata = Collections.unmodifiableMap(kv);
        this.alignment = alignmentOf(kv);

        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        for (int i = 0; i < tensorCount; i++) {
            in.where = "tensor info " + i;
            String name = in.string();
            if (name.isEmpty()) throw fail("tensor info " + i + " has an empty name");
            if (infos.containsKey(name)) throw fail("duplicate tensor name '" + name + "'");
            in.where = "tensor info " + i + " ('" + name + "')";
            long nDims = in.u32();
            if (nDims < 1 || nDims > 4) throw fail("tensor '" + name + "' has " + nDims + " dimensions (GGUF allows 1 to 4)");
            long[] ne = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                ne[d] = in.u64();
                if (ne[d] < 0) throw fail("tensor '" + name + "' has absurd dimension ne[" + d + "] = " + Long.toUnsignedString(ne[d]));
            }
            try {
                for (long d : ne) elements = Math.multiplyExact(elements, d);
            } catch (ArithmeticException e) {
                throw fail("tensor '" + name + "' has absurd dimensions " + Arrays.toString(ne) + ": too many elements");
            }
            long typeId = in.u32();
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) throw fail("tensor '" + name + "' has unknown ggml type id " + typeId);
            if (ne[0] % type.blockSize() != 0) {
                throw fail("tensor '" + name + "' has rows of " + ne[0] + " elements, not a multiple of " + type
                        + "'s block of " + type.blockSize());
            }
            long bytes;
            try {
                bytes = type.rowBytes(elements);
            } catch (ArithmeticException e) {
                throw fail("tensor '" + name + "' has absurd dimensions " + Arrays.toString(ne) + ": too many bytes");
            }
            long offset = in.u64();
            infos.put(name, new TensorInfo(name, ne, type, offset, bytes));
        }
        this.tensors = Collections.unmodifiableMap(infos);

        // the data section starts at the next multiple of the alignment after the tensor infos
        long end = in.position();
        this.dataOffset = (end + alignment - 1) / alignment * alignment;
        long dataBytes = fileSize - dataOffset;
        for (TensorInfo t : infos.values()) {
            if (t.offset() % alignment != 0) {
                throw fail("tensor '" + t.name() + "' has misaligned offset " + Long.toUnsignedString(t.offset())
                        + " (not a multiple of the alignment " + alignment + ")");
            }
            if (t.offset() < 0 || t.offset() > dataBytes || t.byteSize() > dataBytes - t.offset()) {
                throw fail("tensor '" + t.name() + "' has offset out of range: its " + t.byteSize() + " bytes at offset "
                        + Long.toUnsignedString(t.offset()) + " end past the data section's " + Math.max(0, dataBytes)
                        + " bytes (truncated in the tensor data?)");
            }
        }
    }

    /**
     * Opens a GGUF file and checks its header (see the class comment). Tensor data is read on demand.
     *
     * @throws ModelFileException naming the file and what is wrong with it
     */
    public static GgufFile open(Path file) {
        if (!Files.isRegularFile(file)) throw new ModelFileException(file, "no such file");
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            return new GgufFile(file, ch);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new ModelFileException(file, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // the open failed already; that error is the one to report
        }
    }

    private static String versionProblem(long v) {
        if (v == 1) return "GGUF version 1 is not supported (it has 32-bit counts; convert the file again)";
        if (v != 0 && (v & 0xFFFF) == 0) {
            return "GGUF version " + v + " looks byte-swapped: big-endian GGUF files are not supported";
        }
        return "unknown GGUF version " + v + " (this reader knows versions 2 and 3)";
    }

    private static String describeMagic(int magic) {
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < 4; i++) {
            int b = (magic >>> (8 * i)) & 0xFF;
            sb.append(b >= 0x20 && b < 0x7F ? String.valueOf((char) b) : String.format("\\x%02x", b));
        }
        return sb.append("'").toString();
    }

    private int alignmentOf(Map<String, GgufValue> kv) {
        GgufValue a = kv.get(KEY_ALIGNMENT);
        if (a == null) return DEFAULT_ALIGNMENT;
        if (a.type() != GgufValueType.UINT32) throw fail(KEY_ALIGNMENT + " is " + a.typeName() + ", it must be UINT32");
        long v = a.asLong();
        if (v == 0 || (v & (v - 1)) != 0 || v > (1 << 30)) {
            throw fail(KEY_ALIGNMENT + " = " + v + " is not a power of two (up to 2^30)");
        }
        return (int) v;
    }

    private GgufValue readValue(Cursor in, String key, GgufValueType type) throws IOException {
        if (type != GgufValueType.ARRAY) return new GgufValue(type, null, readScalar(in, key, type));
        long elemId = in.u32();
        GgufValueType elem = GgufValueType.byId(elemId);
        if (elem == null) throw fail("key '" + key + "' is an array of unknown value type " + elemId);
        if (elem == GgufValueType.ARRAY) throw fail("key '" + key + "' is an array of arrays, which is not supported");
        long n = in.u64();
        if (n < 0 || n > in.remaining() / elem.minBytes()) {
            throw fail("absurd array length " + Long.toUnsignedString(n) + " for key '" + key + "': " + elem + " elements take at least "
                    + elem.minBytes() + " bytes each and " + in.remaining() + " bytes are left");
        }
        if (n > Integer.MAX_VALUE - 8) throw fail("array of key '" + key + "' has " + n + " elements, more than a Java array holds");
        int len = (int) n;
        Object value;
        switch (elem) {
            case STRING -> {
                List<String> list = new ArrayList<>(len);
                for (int i = 0; i < len; i++) list.add(in.string());
                value = list;
            }
            case FLOAT32 -> {
                float[] a = new float[len];
                for (int i = 0; i < len; i++) a[i] = Float.intBitsToFloat(in.i32());
                value = a;
            }
            case FLOAT64 -> {
                double[] a = new double[len];
                for (int i = 0; i < len; i++) a[i] = Double.longBitsToDouble(in.u64());
                value = a;
            }
            case BOOL -> {
                boolean[] a = new boolean[len];
                for (int i = 0; i < len; i++) a[i] = readBool(in, key);
                value = a;
            }
            default -> {
                long[] a = new long[len];
                for (int i = 0; i < len; i++) a[i] = readInteger(in, elem);
                value = a;
            }
        }
        return new GgufValue(GgufValueType.ARRAY, elem, value);
    }

    private Object readScalar(Cursor in, String key, GgufValueType type) throws IOException {
        return switch (type) {
            case STRING -> in.string();
            case FLOAT32 -> Float.intBitsToFloat(in.i32());
            case FLOAT64 -> Double.longBitsToDouble(in.u64());
            case BOOL -> readBool(in, key);
            default -> readInteger(in, type);
        };
    }

    private boolean readBool(Cursor in, String key) throws IOException {
        int b = in.u8();
        if (b > 1) throw fail("key '" + key + "' has a BOOL byte " + b + " (must be 0 or 1)");
        return b == 1;
    }

    private static long readInteger(Cursor in, GgufValueType type) throws IOException {
        return switch (type) {
            case UINT8 -> in.u8();
            case INT8 -> (byte) in.u8();
            case UINT16 -> in.u16();
            case INT16 -> (short) in.u16();
            case UINT32 -> in.u32();
            case INT32 -> in.i32();
            case UINT64, INT64 -> in.u64();
            default -> throw new IllegalStateException(type.name());
        };
    }

    private ModelFileException fail(String problem) {
        return new ModelFileException(file, problem);
    }

    // ---------------------------------------------------------------------------------------------- the file

    public Path file() {
        return file;
    }

    /** The GGUF version in the file (2 or 3). */
    public int version() {
        return version;
    }

    /** The alignment of the data section and the tensor offsets ({@code general.alignment}, default 32). */
    public int alignment() {
        return alignment;
    }

    /** Where the data section starts, in bytes from the start of the file. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return fileSize;
    }

    // ---------------------------------------------------------------------------------------------- metadata

    /** All key-value pairs, in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    /** The value of a key; throws naming the file and the key if it is missing. */
    public GgufValue get(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) throw fail("missing key '" + key + "'");
        return v;
    }

    public String getString(String key) {
        return typed(key, GgufValue::asString);
    }

    /** A UINT32 value (0 to 2^32 - 1). */
    public long getUInt32(String key) {
        return typed(key, v -> exact(v, GgufValueType.UINT32).asLong());
    }

    public int getInt32(String key) {
        return typed(key, v -> exact(v, GgufValueType.INT32).asInt());
    }

    /** A UINT64 value, as its bits. */
    public long getUInt64(String key) {
        return typed(key, v -> exact(v, GgufValueType.UINT64).asLong());
    }

    public long getInt64(String key) {
        return typed(key, v -> exact(v, GgufValueType.INT64).asLong());
    }

    /** An integer of any GGUF width whose value fits an int (for keys whose writers disagree on the width). */
    public int getInt(String key) {
        return typed(key, GgufValue::asInt);
    }

    public float getFloat32(String key) {
        return typed(key, GgufValue::asFloat32);
    }

    public double getFloat64(String key) {
        return typed(key, v -> exact(v, GgufValueType.FLOAT64).asDouble());
    }

    public boolean getBool(String key) {
        return typed(key, GgufValue::asBool);
    }

    public List<String> getStringArray(String key) {
        return typed(key, GgufValue::asStringList);
    }

    /** An array of integers of any width whose values all fit an int. */
    public int[] getIntArray(String key) {
        return typed(key, GgufValue::asInts);
    }

    /** An array of integers of any width, raw values. */
    public long[] getLongArray(String key) {
        return typed(key, GgufValue::asLongs);
    }

    public float[] getFloatArray(String key) {
        return typed(key, GgufValue::asFloats);
    }

    public double[] getDoubleArray(String key) {
        return typed(key, GgufValue::asDoubles);
    }

    public boolean[] getBoolArray(String key) {
        return typed(key, GgufValue::asBools);
    }

    private static GgufValue exact(GgufValue v, GgufValueType t) {
        if (v.type() != t) throw new IllegalStateException("is " + v.typeName() + ", not " + t);
        return v;
    }

    private <T> T typed(String key, java.util.function.Function<GgufValue, T> read) {
        GgufValue v = get(key);
        try {
            return read.apply(v);
        } catch (IllegalStateException | ClassCastException e) {
            throw fail("key '" + key + "' " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------- tensors

    /** The tensor infos, in file order. */
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    public Optional<TensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** A tensor's info; throws naming the file and the tensor if it is missing. */
    public TensorInfo tensor(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw fail("missing tensor '" + name + "'");
        return t;
    }

    /** Throws naming the file, tensor and type unless gpt4j can decode the tensor's type ({@link GgmlType#supported()}). */
    public TensorInfo requireSupported(String name) {
        TensorInfo t = tensor(name);
        if (!t.type().supported()) {
            throw fail("tensor '" + name + "' has unsupported type " + t.type().describe() + " (gpt4j reads F32, F16, Q8_0, Q4_0 and Q6_K)");
        }
        return t;
    }

    /**
     * A tensor's bytes: a read-only, little-endian buffer of its own (read from the file at each call), position 0,
     * limit its byte size. Read, not memory-mapped: a mapping stays resident, and counted in the process's memory,
     * until the garbage collector drops it, long after a loader has copied the tensor out.
     */
    public synchronized ByteBuffer tensorData(String name) {
        if (closed) throw new IllegalStateException(file + " is closed");
        TensorInfo t = tensor(name);
        if (t.byteSize() > Integer.MAX_VALUE) {
            throw fail("tensor '" + name + "' has " + t.byteSize() + " bytes, more than one Java buffer holds (2 GiB)");
        }
        ByteBuffer b = ByteBuffer.allocate((int) t.byteSize());
        try {
            long at = dataOffset + t.offset();
            while (b.hasRemaining()) {
                int n = channel.read(b, at + b.position());
                if (n < 0) throw fail("tensor '" + name + "' ends past the end of the file");
            }
        } catch (IOException e) {
            throw new ModelFileException(file, "cannot read tensor '" + name + "': " + e.getMessage(), e);
        }
        return b.flip().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        closeQuietly(channel);
    }

    @Override
    public String toString() {
        return "GgufFile[" + file + ", v" + version + ", " + metadata.size() + " keys, " + tensors.size() + " tensors]";
    }

    // ---------------------------------------------------------------------------------------------- reading

    /**
     * Sequential little-endian reads of the header through a small buffer; every read is checked against the
     * bytes left in the file first, so truncation is reported with the section being read.
     */
    private static final class Cursor {
        private final Path file;
        private final FileChannel ch;
        private final long size;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private final java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        private long bufStart;
        /** The section being read, for the truncation message. */
        String where = "the header";

        Cursor(Path file, FileChannel ch, long size) {
            this.file = file;
            this.ch = ch;
            this.size = size;
            buf.limit(0);
        }

        long position() {
            return bufStart + buf.position();
        }

        long remaining() {
            return size - position();
        }

        /** Fails unless {@code n} more bytes are in the file. */
        void need(long n) {
            if (n > remaining()) {
                throw new ModelFileException(file, "truncated in " + where + ": " + n + " more bytes needed at offset "
                        + position() + " of a " + size + "-byte file");
            }
        }

        /** Makes {@code n} (at most the buffer's capacity) bytes available in the buffer. */
        private void fill(int n) throws IOException {
            need(n);
            if (buf.remaining() >= n) return;
            long p = position();
            buf.clear();
            bufStart = p;
            while (buf.position() < n) {
                int r = ch.read(buf, p + buf.position());
                if (r < 0) throw new ModelFileException(file, "truncated in " + where + ": the file ended while being read");
            }
            buf.flip();
        }

        int u8() throws IOException {
            fill(1);
            return buf.get() & 0xFF;
        }

        int u16() throws IOException {
            fill(2);
            return buf.getShort() & 0xFFFF;
        }

        int i32() throws IOException {
            fill(4);
            return buf.getInt();
        }

        long u32() throws IOException {
            return i32() & 0xFFFF_FFFFL;
        }

        long u64() throws IOException {
            fill(8);
            return buf.getLong();
        }

        String string() throws IOException {
            long len = u64();
            if (len < 0 || len > size) {
                throw new ModelFileException(file, "absurd string length " + Long.toUnsignedString(len) + " in " + where
                        + ": only " + remaining() + " bytes are left in the file");
            }
            if (len > remaining()) {
                throw new ModelFileException(file, "truncated in " + where + ": a string of " + len + " bytes at offset "
                        + position() + ", but only " + remaining() + " are left");
            }
            if (len > Integer.MAX_VALUE - 8) throw new ModelFileException(file, "string of " + len + " bytes in " + where + " is too long");
            byte[] bytes = new byte[(int) len];
            int done = 0;
            while (done < bytes.length) {
                int chunk = Math.min(buf.capacity(), bytes.length - done);
                fill(chunk);
                buf.get(bytes, done, chunk);
                done += chunk;
            }
            try {
                CharBuffer cb = utf8.reset().decode(ByteBuffer.wrap(bytes));
                return cb.toString();
            } catch (CharacterCodingException e) {
                throw new ModelFileException(file, "a string in " + where + " is not valid UTF-8");
            }
        }
    }
}
