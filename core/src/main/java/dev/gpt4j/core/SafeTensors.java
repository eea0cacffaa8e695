package dev.gpt4j.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.tokenizer.AtomicFiles;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}}), then
 * the raw little-endian tensor data, row-major. Reads F32, F16, BF16 and F64 into float or double arrays;
 * writes F32 or F16.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /** Headers larger than this are refused (the format's own readers use the same limit). */
    public static final long MAX_HEADER = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One tensor's entry in the header. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    /**
     * A file's header; each tensor's bytes are read from the file when asked for. (Not a memory mapping: a mapped file
     * stays resident, and counted in the process's memory, until the GC drops the mapping, which for a model read
     * once is long after the weights were copied out.)
     */
    public static final class Reader {
        private final Path file;
        private final Map<String, Entry> entries = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();
        /** Where the tensor data starts in the file. */
        private final long dataStart;

        private Reader(Path file) {
            this.file = file;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < 8) throw new ModelFileException(file, "truncated: " + size + " bytes, less than the 8-byte header length");
                ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(lenBuf, 0);
                long n = lenBuf.getLong(0);
                if (n < 2 || n > MAX_HEADER) throw new ModelFileException(file, "header length " + n + " is invalid (at most " + MAX_HEADER + ")");
                if (8 + n > size) throw new ModelFileException(file, "truncated: the header needs " + n + " bytes, the file has " + (size - 8));
                ByteBuffer hb = ByteBuffer.allocate((int) n);
                ch.read(hb, 8);
                JsonNode header;
                try {
                    header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
                } catch (JsonProcessingException e) {
                    throw new ModelFileException(file, "header is not valid JSON: " + e.getOriginalMessage());
                }
                if (header == null || !header.isObject()) throw new ModelFileException(file, "header is not a JSON object");
                long dataLen = size - 8 - n;
                for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> f = it.next();
                    if (f.getKey().equals("__metadata__")) {
                        f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                        continue;
                    }
                    entries.put(f.getKey(), entry(f.getKey(), f.getValue(), dataLen));
                }
                this.dataStart = 8 + n;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }

        private Entry entry(String name, JsonNode e, long dataLen) {
            JsonNode dt = e.get("dtype"), shape = e.get("shape"), off = e.get("data_offsets");
            if (dt == null || shape == null || off == null || !shape.isArray() || !off.isArray() || off.size() != 2) {
                throw new ModelFileException(file, "tensor " + name + ": needs dtype, shape and data_offsets [begin, end]");
            }
            long[] s = new long[shape.size()];
            for (int i = 0; i < s.length; i++) {
                if (!shape.get(i).canConvertToLong() || shape.get(i).asLong() < 0) {
                    throw new ModelFileException(file, "tensor " + name + ": bad shape " + shape);
                }
                s[i] = shape.get(i).asLong();
            }
            Entry en = new Entry(name, dt.asText(), s, off.get(0).asLong(), off.get(1).asLong());
            int width = width(en.dtype());
            if (width < 0) throw new ModelFileException(file, "tensor " + name + ": dtype " + en.dtype() + " is not supported (F32, F16, BF16, F64, U8 are)");
            if (en.begin() < 0 || en.end() < en.begin()) throw new ModelFileException(file, "tensor " + name + ": bad data_offsets " + off);
            if (en.end() > dataLen) {
                throw new ModelFileException(file, "truncated: tensor " + name + " ends at byte " + en.end() + " of the data, which has only " + dataLen);
            }
            if (en.end() - en.begin() != en.elements() * width) {
                throw new ModelFileException(file, "tensor " + name + ": " + (en.end() - en.begin()) + " bytes do not hold shape "
                        + java.util.Arrays.toString(s) + " of " + en.dtype());
            }
            return en;
        }

        public Map<String, Entry> entries() {
            return entries;
        }

        public Map<String, String> metadata() {
            return metadata;
        }

        public Path file() {
            return file;
        }

        /** A tensor's raw little-endian bytes, read from the file (read-only). */
        public ByteBuffer bytes(String name) {
            Entry e = entries.get(name);
            if (e == null) throw new ModelFileException(file, "missing tensor " + name);
            return read(e).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }

        private ByteBuffer read(Entry e) {
            long len = e.end() - e.begin();
            if (len > Integer.MAX_VALUE - 8) throw new ModelFileException(file, "tensor " + e.name() + " has more than 2 GB of data");
            ByteBuffer b = ByteBuffer.allocate((int) len).order(ByteOrder.LITTLE_ENDIAN);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                while (b.hasRemaining()) {
                    if (ch.read(b, dataStart + e.begin() + b.position()) < 0) {
                        throw new ModelFileException(file, "truncated: tensor " + e.name() + " ends past the end of the file");
                    }
                }
            } catch (IOException x) {
                throw new UncheckedIOException("cannot read " + file + ": " + x.getMessage(), x);
            }
            return b.flip().order(ByteOrder.LITTLE_ENDIAN);
        }

        /** A float tensor's values as floats (F32, F16, BF16 or F64 in the file). */
        public float[] floats(String name) {
            Entry e = entries.get(name);
            if (e == null) throw new ModelFileException(file, "missing tensor " + name);
            if (e.dtype().equals("U8")) throw new ModelFileException(file, "tensor " + name + " is U8 (packed weights), not floats");
            ByteBuffer b = bytes(name);
            float[] out = new float[(int) e.elements()];
            for (int i = 0; i < out.length; i++) out[i] = (float) readValue(b, e.dtype());
            return out;
        }

        /** Copies a tensor into {@code target} (same number of elements, any float dtype), converting the dtype. */
        public void readInto(String name, INDArray target) {
            Entry e = entries.get(name);
            if (e == null) throw new ModelFileException(file, "missing tensor " + name);
            if (e.dtype().equals("U8")) throw new ModelFileException(file, "tensor " + name + " is U8 (packed weights), not floats");
            if (e.elements() != target.length()) {
                throw new ModelFileException(file, "tensor " + name + " has shape " + java.util.Arrays.toString(e.shape())
                        + ", expected " + java.util.Arrays.toString(target.shape()));
            }
            int n = (int) e.elements();
            ByteBuffer b = read(e);
            INDArray flat = target.reshape(target.length());
            if (target.dataType() == DataType.DOUBLE) {
                double[] out = new double[n];
                for (int i = 0; i < n; i++) out[i] = readValue(b, e.dtype());
                try (INDArray tmp = Nd4j.createFromArray(out)) { // freed now, not when the GC gets to it
                    flat.assign(tmp);
                }
            } else {
                float[] out = new float[n];
                if (e.dtype().equals("F32")) b.asFloatBuffer().get(out);
                else for (int i = 0; i < n; i++) out[i] = (float) readValue(b, e.dtype());
                try (INDArray tmp = Nd4j.createFromArray(out)) {
                    flat.assign(tmp);
                }
            }
        }
    }

    private static double readValue(ByteBuffer b, String dtype) {
        return switch (dtype) {
            case "F32" -> b.getFloat();
            case "F64" -> b.getDouble();
            case "F16" -> Float16.toFloat(b.getShort());
            case "BF16" -> Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16);
            default -> throw new IllegalStateException(dtype);
        };
    }

    static int width(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F64" -> 8;
            case "F16", "BF16" -> 2;
            case "U8" -> 1;
            default -> -1;
        };
    }

    /** Opens a file and checks its header; tensor data is read on demand. */
    public static Reader open(Path file) {
        if (!Files.isRegularFile(file)) throw new ModelFileException(file, "no such file");
        return new Reader(file);
    }

    /** One tensor to write: its name, file dtype, shape, and a writer of exactly its bytes (little-endian). */
    public record Tensor(String name, String dtype, long[] shape, BytesWriter data) {
        long bytes() {
            long n = width(dtype);
            for (long d : shape) n *= d;
            return n;
        }

        /** A float array as F32 or F16. */
        public static Tensor of(String name, INDArray a, String dtype) {
            if (!dtype.equals("F32") && !dtype.equals("F16")) throw new IllegalArgumentException("write F32 or F16, not " + dtype);
            return new Tensor(name, dtype, a.shape(), out -> writeData(out, a, dtype));
        }

        /** Raw bytes (U8 packed weights, or floats already encoded). */
        public static Tensor ofBytes(String name, String dtype, long[] shape, byte[] bytes) {
            return new Tensor(name, dtype, shape, out -> out.write(bytes));
        }
    }

    /** Writes a tensor's bytes. */
    public interface BytesWriter {
        void write(OutputStream out) throws IOException;
    }

    /** Writes tensors (in the map's order) atomically, as F32 or F16. */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata, String dtype) {
        java.util.List<Tensor> list = new java.util.ArrayList<>();
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) list.add(Tensor.of(e.getKey(), e.getValue(), dtype));
        write(file, list, metadata);
    }

    /** Writes tensors (in the list's order) atomically, each in its own dtype. */
    public static void write(Path file, java.util.List<Tensor> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            // sorted: Map.of iterates in an order that changes from JVM to JVM; the same weights give the same bytes
            new java.util.TreeMap<>(metadata).forEach(meta::put);
        }
        long off = 0;
        for (Tensor e : tensors) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", e.dtype());
            var shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            long bytes = e.bytes();
            t.putArray("data_offsets").add(off).add(off + bytes);
            off += bytes;
        }
        byte[] h;
        try {
            h = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (h.length + 7) / 8 * 8; // pad with spaces so that the data starts 8-byte aligned
        byte[] hp = java.util.Arrays.copyOf(h, padded);
        java.util.Arrays.fill(hp, h.length, padded, (byte) ' ');
        try {
            AtomicFiles.write(file, raw -> {
                OutputStream out = new BufferedOutputStream(raw, 1 << 20);
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
                out.write(len.array());
                out.write(hp);
                for (Tensor t : tensors) {
                    CountingStream counted = new CountingStream(out);
                    t.data().write(counted);
                    if (counted.count != t.bytes()) {
                        throw new IllegalStateException("tensor " + t.name() + ": " + counted.count + " bytes written, its shape needs " + t.bytes());
                    }
                }
                out.flush();
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void writeData(OutputStream out, INDArray a, String dtype) throws IOException {
        long n = a.length();
        INDArray flat = a.reshape(n);
        int chunk = 1 << 18;
        ByteBuffer buf = ByteBuffer.allocate(chunk * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (long start = 0; start < n; start += chunk) {
            int len = (int) Math.min(chunk, n - start);
            float[] f = flat.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, start + len)).toFloatVector();
            buf.clear();
            if (dtype.equals("F32")) {
                for (float v : f) buf.putFloat(v);
            } else {
                for (float v : f) buf.putShort(Float16.fromFloat(v));
            }
            out.write(buf.array(), 0, buf.position());
        }
    }

    /** Counts what goes through, so that a tensor's bytes can be checked against its shape. */
    private static final class CountingStream extends java.io.FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
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
