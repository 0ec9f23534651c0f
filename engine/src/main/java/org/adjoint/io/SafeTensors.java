package org.adjoint.io;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.adjoint.Tensor;
import org.adjoint.internal.HostArrays;
import org.adjoint.backend.OutOfMemoryException;
import org.adjoint.io.SafeTensorsHeader.Entry;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format, the one Hugging Face and PyTorch use to share weights.
 *
 * <p>A file is an 8-byte little-endian header length {@code N}, {@code N} bytes of UTF-8
 * JSON that map each tensor name to its {@code dtype}, {@code shape} and
 * {@code data_offsets} (a byte range relative to the end of the header) and optionally
 * {@code "__metadata__"} to a string-to-string map, then the little-endian data.
 *
 * <pre>{@code
 * SafeTensors.save(Path.of("model.safetensors"), Map.of("w", w, "b", b));
 * Map<String, Tensor> weights = SafeTensors.load(Path.of("model.safetensors"));
 * }</pre>
 *
 * <p>Writing produces {@code F32} and replaces the file atomically. Reading accepts
 * {@code F32}, and converts {@code F64}, {@code F16} and {@code BF16} to float32 (rounded to
 * nearest as PyTorch's {@code float()} does: an {@code F64} beyond float32's range becomes
 * ±∞), and
 * {@code I64} and {@code I32} where float32 holds every value exactly (PyTorch's
 * {@code num_batches_tracked}; a larger integer is refused, naming the tensor). A file is
 * checked in full (header, and that the tensors tile the data section exactly, as the
 * reference implementation requires) before any tensor is read, so a corrupt or truncated
 * file fails with an {@link IllegalArgumentException} that names it and says what is wrong,
 * never with a partial result or an allocation sized by an unchecked number; a valid file
 * too large for the heap fails with an {@link OutOfMemoryException} that names it, with the
 * sizes. Errors of the file system itself surface as {@link UncheckedIOException}.
 */
public final class SafeTensors {

    private static final Logger LOG = Logger.getLogger(SafeTensors.class.getName());
    /** Whether a failed folder sync was reported: once, since where it fails it fails every time. */
    private static final AtomicBoolean DIRECTORY_SYNC_REPORTED = new AtomicBoolean();

    // A multiple of every element size, so that no element straddles two chunks.
    private static final int CHUNK_BYTES = 1 << 20;

    private SafeTensors() {
    }

    /**
     * What a file holds: its tensors and its metadata.
     *
     * @param tensors  the tensors by name, in the order of the file's header
     * @param metadata the {@code "__metadata__"} entries (empty when the file has none)
     */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {

        /**
         * Wraps both maps unmodifiably, keeping their order.
         *
         * @param tensors  the tensors by name
         * @param metadata the metadata
         */
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    /**
     * Writes tensors as float32, with no metadata.
     *
     * @param file    the file to create or replace
     * @param tensors the tensors by name, written in the map's iteration order
     * @throws IllegalArgumentException when a name is {@code "__metadata__"}
     * @throws UncheckedIOException     when the file cannot be written; a previous file stays intact
     * @see #save(Path, Map, Map)
     */
    public static void save(Path file, Map<String, Tensor> tensors) {
        save(file, tensors, Map.of());
    }

    /**
     * Writes tensors as float32, and metadata, replacing the file atomically: the bytes go to
     * a temporary file in the same directory, which is forced to disk and then renamed over
     * {@code file}. When anything fails the temporary file is deleted and a previous file
     * at {@code file} is left as it was.
     *
     * <p>The header is padded with spaces to a multiple of 8 bytes, as the reference
     * implementation does, and the metadata is omitted when empty.
     *
     * @param file     the file to create or replace
     * @param tensors  the tensors by name, written contiguously in the map's iteration order
     * @param metadata string entries stored under {@code "__metadata__"}
     * @throws IllegalArgumentException when a name is {@code "__metadata__"}
     * @throws UncheckedIOException     when the file cannot be written; a previous file stays intact
     */
    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(file, "file");
        List<Tensor> order = new ArrayList<>(tensors.size());
        ByteBuffer header = header(file, tensors, metadata, order);
        Path target = file.toAbsolutePath();
        // Not Files.createTempFile: its owner-only permissions would end up on the saved file.
        Path temporary = target.resolveSibling("." + target.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                writeFully(channel, header);
                ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (Tensor tensor : order) {
                    writeData(file, channel, chunk, tensor);
                }
                channel.force(true);
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteAfterFailure(temporary, e);
            throw new UncheckedIOException(file + ": cannot write: " + e, e);
        } catch (RuntimeException | Error e) {
            deleteAfterFailure(temporary, e);
            throw e;
        }
        syncDirectory(target.getParent());
    }

    /** The length prefix and padded JSON header; fills {@code order} with the tensors to write. */
    private static ByteBuffer header(Path file, Map<String, Tensor> tensors, Map<String, String> metadata,
            List<Tensor> order) {
        Map<String, Object> json = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            Map<String, Object> strings = new LinkedHashMap<>();
            metadata.forEach((key, value) -> strings.put(Objects.requireNonNull(key, "metadata key"),
                    Objects.requireNonNull(value, () -> "metadata value for key '" + key + "'")));
            json.put(SafeTensorsHeader.METADATA_KEY, strings);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> entry : tensors.entrySet()) {
            String name = Objects.requireNonNull(entry.getKey(), "tensor name");
            Tensor tensor = Objects.requireNonNull(entry.getValue(), () -> "tensor '" + name + "'");
            if (name.equals(SafeTensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException(file + ": cannot name a tensor " + SafeTensorsHeader.METADATA_KEY
                        + ", the key reserved for metadata");
            }
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("dtype", "F32");
            fields.put("shape", Arrays.stream(tensor.shape()).boxed().toList());
            long end = offset + tensor.size() * Float.BYTES;
            fields.put("data_offsets", List.of(offset, end));
            json.put(name, fields);
            offset = end;
            order.add(tensor);
        }
        byte[] body = encode(file, Json.write(json));
        long padded = body.length + (8 - body.length % 8) % 8;
        if (padded > SafeTensorsHeader.MAX_HEADER_BYTES) {
            // load would refuse it: found out before the previous file is replaced.
            throw new IllegalArgumentException(file + ": the header would take " + padded + " bytes, more than the "
                    + SafeTensorsHeader.MAX_HEADER_BYTES + " a reader accepts (shorter metadata, or fewer tensors)");
        }
        ByteBuffer header = ByteBuffer.allocate(8 + (int) padded).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(padded).put(body);
        while (header.hasRemaining()) {
            header.put((byte) ' ');
        }
        return header.flip();
    }

    /**
     * The header's UTF-8 bytes. A string with a lone surrogate has no UTF-8 form: encoding it
     * would write '?' in its place, so two names could become one key that load refuses.
     */
    private static byte[] encode(Path file, String header) {
        int at = loneSurrogate(header);
        if (at >= 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: a tensor name or metadata string "
                    + "holds a lone surrogate U+%04X (after \"%s\"), which UTF-8 cannot encode", file,
                    (int) header.charAt(at), header.substring(Math.max(0, at - 20), at)));
        }
        return header.getBytes(UTF_8);
    }

    private static int loneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    private static void writeData(Path file, FileChannel channel, ByteBuffer chunk, Tensor tensor)
            throws IOException {
        float[] values = tensor.toFloatArray();
        if (values.length != tensor.size()) {
            throw new IllegalStateException(file + ": a tensor of shape " + Arrays.toString(tensor.shape())
                    + " returned " + values.length + " values");
        }
        int perChunk = chunk.capacity() / Float.BYTES;
        for (int start = 0; start < values.length; start += perChunk) {
            int count = Math.min(perChunk, values.length - start);
            chunk.clear();
            chunk.asFloatBuffer().put(values, start, count);
            chunk.limit(count * Float.BYTES);
            writeFully(channel, chunk);
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static void deleteAfterFailure(Path temporary, Throwable failure) {
        try {
            Files.deleteIfExists(temporary);
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** Makes the rename itself durable where the platform allows it (POSIX; Windows cannot open a directory). */
    private static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            // The file is complete and in place; only its durability across a power cut is less
            // certain. Said once, not at every save: where it fails (a platform that cannot open a
            // directory), it fails every time.
            if (DIRECTORY_SYNC_REPORTED.compareAndSet(false, true)) {
                LOG.log(Level.WARNING, "safetensors: cannot sync the folder " + directory + " after a save ("
                        + e + "); the file is complete, its rename may not survive a power cut", e);
            }
        }
    }

    /**
     * Reads every tensor of a file.
     *
     * @param file a safetensors file
     * @return the tensors by name, in the order of the header, as float32 on the current backend
     * @throws IllegalArgumentException when the file is not a valid safetensors file, or holds a
     *                                  dtype other than F32, F64, F16, BF16, I64 and I32, or an integer float32 cannot hold exactly
     * @throws OutOfMemoryException     when a tensor of a valid file does not fit in the heap
     * @throws UncheckedIOException     when the file cannot be read
     */
    public static Map<String, Tensor> load(Path file) {
        return read(file).tensors();
    }

    /**
     * Reads every tensor of a file, and its metadata.
     *
     * @param file a safetensors file
     * @return the tensors, in the order of the header, and the metadata
     * @throws IllegalArgumentException when the file is not a valid safetensors file, or holds a
     *                                  dtype other than F32, F64, F16, BF16, I64 and I32, or an integer float32 cannot hold exactly
     * @throws OutOfMemoryException     when a tensor of a valid file does not fit in the heap
     * @throws UncheckedIOException     when the file cannot be read
     */
    public static Contents read(Path file) {
        Objects.requireNonNull(file, "file");
        SafeTensorsHeader header;
        List<float[]> values = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileLength = channel.size();
            if (fileLength < 8) {
                throw new IllegalArgumentException(file + ": file has " + fileLength
                        + " bytes, fewer than the 8-byte header length that starts a safetensors file");
            }
            long headerLength = readFully(file, channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 0 || headerLength > SafeTensorsHeader.MAX_HEADER_BYTES) {
                throw new IllegalArgumentException(file + ": header length " + Long.toUnsignedString(headerLength)
                        + " is more than " + SafeTensorsHeader.MAX_HEADER_BYTES
                        + " bytes (the reference limit); is this a safetensors file?");
            }
            if (headerLength > fileLength - 8) {
                throw new IllegalArgumentException(file + ": header length " + headerLength + " runs past the end of "
                        + "the file (" + fileLength + " bytes; is it truncated?)");
            }
            ByteBuffer json = readFully(file, channel, 8, (int) headerLength);
            long dataStart = 8 + headerLength;
            header = SafeTensorsHeader.parse(file.toString(), decode(file, json), fileLength - dataStart);
            // No bigger than the data, in whole 8-byte elements: a small file needs no megabyte.
            int chunkBytes = (int) Math.min(CHUNK_BYTES, Math.max(8, (fileLength - dataStart + 7) & ~7L));
            ByteBuffer chunk = ByteBuffer.allocate(chunkBytes).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry entry : header.entries) {
                values.add(readTensor(file, channel, dataStart, entry, chunk));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e, e);
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < values.size(); i++) {
            Entry entry = header.entries.get(i);
            tensors.put(entry.name(), entry.shape().length == 0 ? Tensor.scalar(values.get(i)[0])
                    : Tensor.of(values.get(i), entry.shape()));
        }
        return new Contents(tensors, header.metadata);
    }

    private static String decode(Path file, ByteBuffer bytes) {
        try {
            return UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": header is not valid UTF-8 (" + e.getMessage() + ")", e);
        }
    }

    private static float[] readTensor(Path file, FileChannel channel, long dataStart, Entry entry, ByteBuffer chunk)
            throws IOException {
        float[] values = allocate(file, entry);
        int size = entry.dtype().bytes;
        int perChunk = chunk.capacity() / size;
        long position = dataStart + entry.begin();
        for (int start = 0; start < values.length; start += perChunk) {
            int count = Math.min(perChunk, values.length - start);
            chunk.clear().limit(count * size);
            readInto(file, channel, position, chunk);
            try {
                entry.dtype().convert(chunk.flip(), values, start, count);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": tensor " + entry.describe() + ": " + e.getMessage(), e);
            }
            position += (long) count * size;
        }
        return values;
    }

    /**
     * The array for one tensor. Its size is checked against the file, so only a genuinely large
     * file can exceed the heap; it then fails with the sizes instead of an OutOfMemoryError.
     * Catching that error is sound around one allocation: it either happens or leaves nothing
     * behind, and the JVM throws only after a full collection; the tensors read before it
     * become garbage as the exception leaves {@link #read}.
     */
    private static float[] allocate(Path file, Entry entry) {
        return HostArrays.allocate(() -> file + ": tensor " + entry.describe() + " as float32", entry.elements(),
                Float.BYTES, () -> new float[entry.elements()]);
    }

    private static ByteBuffer readFully(Path file, FileChannel channel, long position, int length)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        readInto(file, channel, position, buffer);
        return buffer.flip();
    }

    private static void readInto(Path file, FileChannel channel, long position, ByteBuffer buffer)
            throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, at);
            if (read < 0) {
                // The size was checked up front, so the file shrank while being read.
                throw new IllegalArgumentException(file + ": file ended at byte " + at
                        + " while reading it (was it truncated meanwhile?)");
            }
            at += read;
        }
    }
}
