package dev.rolloutlab.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rolloutlab.engine.kernels.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header, then raw data. Tensors
 * come back in data-offset order, which is the "checkpoint order" the weight checksum uses.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = HfJson.MAPPER;
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {}

    public static Map<String, Tensor> read(Path file) {
        // a FIFO or device would block the reader forever (or stream without end); checkpoints are regular files
        if (!Files.isRegularFile(file)) throw new ModelFormatException(file + ": not a regular file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                // One mapping per tensor would lift this; no checkpoint this toolkit targets is that large per file.
                throw new ModelFormatException(file + ": files over 2 GiB are not supported");
            }
            ByteBuffer all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
            return parse(all, file.toString());
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The storage dtypes a file uses, read from its header only. */
    public static Set<DType> dtypes(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.getLong(0);
            if (n <= 0 || n > MAX_HEADER) throw new ModelFormatException(file + ": not a safetensors file");
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            ch.read(hb, 8);
            Set<DType> out = new TreeSet<>();
            JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8))
                    .properties()
                    .forEach(e -> {
                        if (!e.getKey().equals("__metadata__"))
                            out.add(DType.parse(e.getValue().path("dtype").asText(), file.toString()));
                    });
            return out;
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Parses safetensors bytes already in memory, e.g. the body of an {@code /admin/update_weights} request. */
    public static Map<String, Tensor> parse(byte[] bytes, String where) {
        return parse(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), where);
    }

    static Map<String, Tensor> parse(ByteBuffer all, String where) {
        if (all.remaining() < 8)
            throw new ModelFormatException(where + ": not a safetensors file (shorter than 8 bytes)");
        long headerLen = all.getLong(0);
        if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > all.remaining()) {
            // the number is the file's first 8 bytes: never echoed, they may be anybody's file
            throw new ModelFormatException(where + ": not a safetensors file (its first 8 bytes are no header length)");
        }
        byte[] hb = new byte[(int) headerLen];
        all.get(8, hb);
        JsonNode header;
        try {
            header = JSON.readTree(new String(hb, StandardCharsets.UTF_8));
        } catch (IOException e) { // Jackson's message quotes the bytes it choked on: say where, not what
            long at = e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                    ? j.getLocation().getCharOffset()
                    : -1;
            throw new ModelFormatException(
                    where + ": safetensors header is not JSON" + (at >= 0 ? " (at character " + at + ")" : ""));
        }
        if (header == null || !header.isObject())
            throw new ModelFormatException(where + ": safetensors header is not a JSON object");
        long dataStart = 8 + headerLen;
        long dataLen = all.capacity() - dataStart;
        record Entry(String name, DType dtype, int[] shape, long begin, long end) {}
        List<Entry> entries = new ArrayList<>();
        for (var f : header.properties()) {
            if (f.getKey().equals("__metadata__")) continue;
            String name = f.getKey();
            JsonNode n = f.getValue();
            String at = where + ": tensor " + name;
            if (!n.hasNonNull("dtype") || !n.has("shape") || !n.has("data_offsets")) {
                throw new ModelFormatException(at + ": header entry needs dtype, shape and data_offsets");
            }
            DType dt = DType.parse(n.get("dtype").asText(), at);
            JsonNode sh = n.get("shape"), off = n.get("data_offsets");
            if (!sh.isArray() || sh.size() > 8)
                throw new ModelFormatException(at + ": shape must be an array of at most 8 sizes");
            if (!off.isArray()
                    || off.size() != 2
                    || !off.get(0).canConvertToLong()
                    || !off.get(1).canConvertToLong()) {
                throw new ModelFormatException(at + ": data_offsets must be an array of two integers");
            }
            int[] shape = new int[sh.size()];
            for (int i = 0; i < shape.length; i++) {
                if (!sh.get(i).canConvertToInt() || sh.get(i).asInt() < 0)
                    throw new ModelFormatException(at + ": shape must hold non-negative integers");
                shape[i] = sh.get(i).asInt();
            }
            long b = off.get(0).asLong(), e = off.get(1).asLong();
            long numel = Tensor.numel(shape);
            if (b < 0 || e < b || e > dataLen || numel > Integer.MAX_VALUE - 8 || (e - b) != numel * dt.bytes) {
                throw new ModelFormatException(at + ": data_offsets [" + b + "," + e + "] do not match shape "
                        + Arrays.toString(shape) + " of " + dt);
            }
            entries.add(new Entry(name, dt, shape, b, e));
        }
        entries.sort(Comparator.comparingLong(Entry::begin));
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Entry e : entries) {
            float[] data = new float[(int) Tensor.numel(e.shape)];
            ByteBuffer slice = all.slice((int) (dataStart + e.begin), (int) (e.end - e.begin))
                    .order(ByteOrder.LITTLE_ENDIAN);
            e.dtype.read(slice, data);
            out.put(e.name, new Tensor(e.name, e.shape, data));
        }
        return out;
    }

    public static void write(Path file, Map<String, Tensor> tensors, DType dtype) throws IOException {
        byte[] bytes = toBytes(tensors, dtype);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Serialises tensors in map order; used for files and for pushing weights over HTTP. */
    public static byte[] toBytes(Map<String, Tensor> tensors, DType dtype) {
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (Tensor t : tensors.values()) {
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", dtype.name());
            var shape = e.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            long len = (long) t.data().length * dtype.bytes;
            e.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] hb = header.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - hb.length % 8) % 8;
        int headerLen = hb.length + pad;
        if (8L + headerLen + offset > Integer.MAX_VALUE) throw new IllegalArgumentException("tensors exceed 2 GiB");
        ByteBuffer buf = ByteBuffer.allocate((int) (8 + headerLen + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(headerLen).put(hb);
        for (int i = 0; i < pad; i++) buf.put((byte) ' ');
        for (Tensor t : tensors.values()) {
            ByteBuffer slice =
                    buf.slice(buf.position(), t.data().length * dtype.bytes).order(ByteOrder.LITTLE_ENDIAN);
            dtype.write(slice, t.data());
            buf.position(buf.position() + t.data().length * dtype.bytes);
        }
        return buf.array();
    }
}
