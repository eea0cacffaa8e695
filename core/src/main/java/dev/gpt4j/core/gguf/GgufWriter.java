package dev.gpt4j.core.gguf;

import dev.gpt4j.tokenizer.AtomicFiles;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds a GGUF version 3 file: key-value pairs in the order they are put, then tensors in the order they are added,
 * their data in that same order, the first at offset 0 and each padded with zeros to the alignment. That is the
 * layout llama.cpp's reader insists on (it wants each offset to be exactly the padded sum of the tensors before it).
 * The alignment is {@code general.alignment} if that key is put (UINT32, a power of two), else 32. The writer takes
 * tensor bytes as they are stored (F32, F16, already-quantized blocks...): it only checks their count against the
 * dimensions and type. The file is written atomically (a temporary file, then a rename).
 *
 * <pre>{@code
 * new GgufWriter()
 *     .put("general.architecture", GgufValue.string("gpt2"))
 *     .addTensor("output_norm.weight", new long[] {768}, GgmlType.F32, bytes)
 *     .write(Path.of("model.gguf"));
 * }</pre>
 */
public final class GgufWriter {
    /** llama.cpp refuses tensor names of this many bytes or more ({@code GGML_MAX_NAME}). */
    public static final int MAX_NAME_BYTES = 64;

    /** Writes a tensor's bytes, exactly as many as its dimensions and type take. */
    @FunctionalInterface
    public interface TensorBytes {
        void writeTo(OutputStream out) throws IOException;
    }

    private record Tensor(String name, long[] ne, GgmlType type, long bytes, TensorBytes source) {}

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** Adds a key-value pair (keys are unique; order is kept). */
    public GgufWriter put(String key, GgufValue value) {
        Objects.requireNonNull(value, "value");
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("a GGUF key must not be empty");
        if (metadata.containsKey(key)) throw new IllegalArgumentException("duplicate key '" + key + "'");
        if (key.equals(GgufFile.KEY_ALIGNMENT)) {
            long a = value.type() == GgufValueType.UINT32 ? value.asLong() : -1;
            if (a <= 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
                throw new IllegalArgumentException(key + " must be a UINT32 power of two, not " + value);
            }
        }
        metadata.put(key, value);
        return this;
    }

    /** Adds all pairs of a map, in its order. */
    public GgufWriter putAll(Map<String, GgufValue> pairs) {
        pairs.forEach(this::put);
        return this;
    }

    /**
     * Adds a tensor whose bytes are {@code data}'s remaining bytes (the buffer is not consumed; its byte order does
     * not matter: the bytes are written as they are).
     *
     * @param ne the dimensions in ggml's order, {@code ne[0]} innermost (a row-major {@code [rows][cols]} is {cols, rows})
     */
    public GgufWriter addTensor(String name, long[] ne, GgmlType type, ByteBuffer data) {
        long bytes = checkTensor(name, ne, type);
        if (data.remaining() != bytes) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.remaining() + " bytes given, "
                    + Arrays.toString(ne) + " of " + type + " take " + bytes);
        }
        ByteBuffer copy = data.duplicate();
        return add(new Tensor(name, ne.clone(), type, bytes, out -> {
            WritableByteChannel ch = Channels.newChannel(out);
            ByteBuffer b = copy.duplicate();
            while (b.hasRemaining()) ch.write(b);
        }));
    }

    /** Adds a tensor whose bytes a callback writes when the file is written (so they need not all be in memory). */
    public GgufWriter addTensor(String name, long[] ne, GgmlType type, TensorBytes source) {
        long bytes = checkTensor(name, ne, type);
        return add(new Tensor(name, ne.clone(), type, bytes, Objects.requireNonNull(source, "source")));
    }

    private GgufWriter add(Tensor t) {
        tensors.add(t);
        names.add(t.name());
        return this;
    }

    private long checkTensor(String name, long[] ne, GgmlType type) {
        Objects.requireNonNull(type, "type");
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("a tensor name must not be empty");
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes >= MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + name + "' has " + nameBytes + " bytes; llama.cpp takes fewer than " + MAX_NAME_BYTES);
        }
        if (names.contains(name)) throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        if (ne.length < 1 || ne.length > 4) throw new IllegalArgumentException("tensor '" + name + "' has " + ne.length + " dimensions; GGUF allows 1 to 4");
        long n = 1;
        for (long d : ne) {
            if (d < 1) throw new IllegalArgumentException("tensor '" + name + "' has dimension " + d + " in " + Arrays.toString(ne));
            n = Math.multiplyExact(n, d);
        }
        if (ne[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': ne[0] = " + ne[0] + " is not a multiple of " + type
                    + "'s block of " + type.blockSize());
        }
        return type.rowBytes(n);
    }

    public int alignment() {
        GgufValue a = metadata.get(GgufFile.KEY_ALIGNMENT);
        return a == null ? GgufFile.DEFAULT_ALIGNMENT : (int) a.asLong();
    }

    /** Writes the file atomically; the old file, if any, stays untouched on any error. */
    public void write(Path file) {
        try {
            AtomicFiles.write(file, raw -> {
                Counting out = new Counting(new BufferedOutputStream(raw, 1 << 20));
                writeTo(out);
                out.flush();
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private void writeTo(Counting out) throws IOException {
        int align = alignment();
        LittleEndian le = new LittleEndian(out);
        le.u32(0x46554747); // "GGUF"
        le.u32(3);
        le.u64(tensors.size());
        le.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            le.string(e.getKey());
            writeValue(le, e.getValue());
        }
        long offset = 0;
        for (Tensor t : tensors) {
            le.string(t.name());
            le.u32(t.ne().length);
            for (long d : t.ne()) le.u64(d);
            le.u32(t.type().id());
            le.u64(offset);
            offset += padded(t.bytes(), align);
        }
        pad(out, align);
        for (Tensor t : tensors) {
            long start = out.count;
            t.source().writeTo(out);
            long written = out.count - start;
            if (written != t.bytes()) {
                throw new IllegalStateException("tensor '" + t.name() + "': " + written + " bytes written, "
                        + Arrays.toString(t.ne()) + " of " + t.type() + " take " + t.bytes());
            }
            pad(out, align);
        }
    }

    private static long padded(long n, int align) {
        return (n + align - 1) / align * align;
    }

    private static void pad(Counting out, int align) throws IOException {
        long n = padded(out.count, align) - out.count;
        for (long i = 0; i < n; i++) out.write(0);
    }

    private static void writeValue(LittleEndian le, GgufValue v) throws IOException {
        le.u32(v.type().id());
        if (v.type() != GgufValueType.ARRAY) {
            writeScalar(le, v.type(), v.value());
            return;
        }
        GgufValueType elem = v.elementType();
        le.u32(elem.id());
        le.u64(v.length());
        Object a = v.value();
        switch (elem) {
            case STRING -> {
                for (String s : v.asStringList()) le.string(s);
            }
            case FLOAT32 -> {
                for (float f : (float[]) a) le.u32(Float.floatToRawIntBits(f));
            }
            case FLOAT64 -> {
                for (double d : (double[]) a) le.u64(Double.doubleToRawLongBits(d));
            }
            case BOOL -> {
                for (boolean b : (boolean[]) a) le.out.write(b ? 1 : 0);
            }
            default -> {
                for (long x : (long[]) a) le.integer(elem, x);
            }
        }
    }

    private static void writeScalar(LittleEndian le, GgufValueType type, Object value) throws IOException {
        switch (type) {
            case STRING -> le.string((String) value);
            case FLOAT32 -> le.u32(Float.floatToRawIntBits((Float) value));
            case FLOAT64 -> le.u64(Double.doubleToRawLongBits((Double) value));
            case BOOL -> le.out.write((Boolean) value ? 1 : 0);
            default -> le.integer(type, (Long) value);
        }
    }

    /** Little-endian numbers and GGUF strings onto a stream. */
    private static final class LittleEndian {
        final OutputStream out;
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        LittleEndian(OutputStream out) {
            this.out = out;
        }

        void u32(long v) throws IOException {
            out.write(scratch.putInt(0, (int) v).array(), 0, 4);
        }

        void u64(long v) throws IOException {
            out.write(scratch.putLong(0, v).array(), 0, 8);
        }

        void integer(GgufValueType t, long v) throws IOException {
            switch (t.size()) {
                case 1 -> out.write((int) v);
                case 2 -> out.write(scratch.putShort(0, (short) v).array(), 0, 2);
                case 4 -> u32(v);
                default -> u64(v);
            }
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            out.write(b);
        }
    }

    /** Counts the bytes written, for padding and for checking each tensor's byte count. */
    private static final class Counting extends FilterOutputStream {
        long count;

        Counting(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
