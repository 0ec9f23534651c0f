package org.adjoint.io;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.cpu.CpuBackend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading and writing real tensors; the malformed files are in the engine's SafeTensorsValidationTest. */
class SafeTensorsTest {

    private static final Backend CPU = new CpuBackend();

    @TempDir
    Path directory;

    @BeforeEach
    void selectBackend() {
        Backends.use(CPU);
    }

    /** A file as the reference lays it out: length, JSON padded with spaces to 8 bytes, then {@code data}. */
    private static byte[] file(String json, ByteBuffer data) {
        byte[] header = json.getBytes(UTF_8);
        int padded = header.length + (8 - header.length % 8) % 8;
        ByteBuffer buffer = ByteBuffer.allocate(8 + padded + data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(padded).put(header);
        while (buffer.position() < 8 + padded) {
            buffer.put((byte) ' ');
        }
        return buffer.put(data.rewind()).array();
    }

    private static ByteBuffer littleEndian(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private List<Path> listing() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.sorted().toList();
        }
    }

    @Test
    void roundTripKeepsShapesValuesOrderAndMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("z.last.alphabetically", Tensor.of(new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, Float.NaN,
                Float.POSITIVE_INFINITY, Float.MAX_VALUE}, 2, 4));
        tensors.put("scalar", Tensor.scalar(-7.25f));
        tensors.put("empty", Tensor.of(new float[0], 0, 3));
        tensors.put("vector", Tensor.of(new float[] {0.1f, 0.2f, 0.3f}));
        tensors.put("rank4", Tensor.randn(3, 2, 1, 3, 2));
        tensors.put("ünïcode \"name\"", Tensor.of(new float[] {42}, 1, 1));
        Map<String, String> metadata = Map.of("format", "pt", "note", "line\nbreak");
        Path path = directory.resolve("model.safetensors");
        SafeTensors.save(path, tensors, metadata);

        SafeTensors.Contents contents = SafeTensors.read(path);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(contents.tensors().keySet()));
        for (var entry : tensors.entrySet()) {
            Tensor back = contents.tensors().get(entry.getKey());
            assertArrayEquals(entry.getValue().shape(), back.shape(), entry.getKey());
            assertArrayEquals(entry.getValue().toFloatArray(), back.toFloatArray(), entry.getKey());
        }
        assertEquals(0, contents.tensors().get("scalar").rank());
        assertEquals(-7.25f, contents.tensors().get("scalar").item());
        assertEquals(metadata, contents.metadata());
        assertEquals(List.of(path), listing(), "no temporary file is left behind");
        long headerLength = ByteBuffer.wrap(Files.readAllBytes(path), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8, "the header is padded to a multiple of 8 bytes");
    }

    /** A file with one JSON header (padded to 8 bytes) and the given data section. */
    private Path fileWith(String json, ByteBuffer data) throws IOException {
        byte[] header = json.getBytes(UTF_8);
        int padded = header.length + (8 - header.length % 8) % 8;
        ByteBuffer file = littleEndian(8 + padded + data.capacity());
        file.putLong(padded).put(header);
        while (file.position() < 8 + padded) {
            file.put((byte) ' ');
        }
        file.put(data.array());
        return Files.write(directory.resolve("integers.safetensors"), file.array());
    }

    @Test
    void integersThatFloat32HoldsExactlyAreRead() throws IOException {
        // PyTorch's BatchNorm2d keeps num_batches_tracked as int64; position ids are integers too.
        ByteBuffer data = littleEndian(20).putLong(938L).putInt(-7).putInt(0).putInt(1 << 24);
        Path path = fileWith("{\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                + "\"ids\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[8,20]}}", data);
        Map<String, Tensor> read = SafeTensors.load(path);
        assertEquals(938f, read.get("bn.num_batches_tracked").item());
        assertArrayEquals(new float[] {-7f, 0f, 16777216f}, read.get("ids").toFloatArray());
    }

    @Test
    void anIntegerThatFloat32WouldRoundIsRefusedWithItsTensor() throws IOException {
        ByteBuffer data = littleEndian(16).putLong(3L).putLong((1L << 24) + 1);
        Path path = fileWith("{\"steps\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data);
        var error = assertThrows(IllegalArgumentException.class, () -> SafeTensors.load(path));
        assertEquals(path + ": tensor 'steps' (I64 [2], data_offsets [0, 16]): element 1 is 16777217, which float32 "
                + "cannot hold exactly", error.getMessage());
    }

    @Test
    void readsAFileLaidOutAsPyTorchWritesIt() throws IOException {
        // What safetensors.torch.save_file({"w": torch.tensor([[1., 2.], [3., 4.]])}, path) writes.
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                + "\"data_offsets\":[0,16]}}";
        ByteBuffer data = littleEndian(16).putFloat(1).putFloat(2).putFloat(3).putFloat(4);
        byte[] bytes = file(json, data);
        assertEquals(0, (bytes.length - 8 - 16) % 8);
        Path path = Files.write(directory.resolve("torch.safetensors"), bytes);

        SafeTensors.Contents contents = SafeTensors.read(path);
        Tensor w = contents.tensors().get("w");
        assertArrayEquals(new int[] {2, 2}, w.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4}, w.toFloatArray());
        assertEquals(Map.of("format", "pt"), contents.metadata());

        Path ours = directory.resolve("ours.safetensors");
        SafeTensors.save(ours, Map.of("w", w), Map.of("format", "pt"));
        assertArrayEquals(bytes, Files.readAllBytes(ours), "the same bytes as the reference writes");
    }

    @Test
    void convertsHalfBfloatAndDoubleToFloat32() throws IOException {
        // Header order differs from data order: the map follows the header.
        String json = "{\"half\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[24,36]},"
                + "\"brain\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[36,44]},"
                + "\"double\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,24]},"
                + "\"unknown fields\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[44,48],\"extra\":[1]}}";
        ByteBuffer data = littleEndian(48);
        data.putDouble(0.1).putDouble(-1e300).putDouble(3);
        for (int half : new int[] {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00}) {
            data.putShort((short) half);
        }
        for (int bfloat : new int[] {0x3F80, 0xC000, 0x4049, 0x0000}) {
            data.putShort((short) bfloat);
        }
        data.putFloat(9.5f);
        Path path = Files.write(directory.resolve("mixed.safetensors"), file(json, data));

        Map<String, Tensor> tensors = SafeTensors.load(path);
        assertEquals(List.of("half", "brain", "double", "unknown fields"), List.copyOf(tensors.keySet()));
        assertArrayEquals(new float[] {1, -2, 0.5f, 65504, 0x1p-24f, Float.POSITIVE_INFINITY},
                tensors.get("half").toFloatArray());
        assertArrayEquals(new float[] {1, -2, 3.140625f, 0}, tensors.get("brain").toFloatArray());
        assertArrayEquals(new int[] {2, 2}, tensors.get("brain").shape());
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY, 3}, tensors.get("double").toFloatArray());
        assertEquals(9.5f, tensors.get("unknown fields").item());
    }

    @Test
    void largeTensorsCrossReadAndWriteChunks() {
        Tensor big = Tensor.randn(11, 3, 100_003); // 1.2 MB: more than one 1 MiB chunk, not a multiple of it
        Path path = directory.resolve("big.safetensors");
        SafeTensors.save(path, Map.of("big", big));
        assertArrayEquals(big.toFloatArray(), SafeTensors.load(path).get("big").toFloatArray());
    }

    @Test
    void emptyFileOfTensorsRoundTrips() {
        Path path = directory.resolve("empty.safetensors");
        SafeTensors.save(path, Map.of());
        assertTrue(SafeTensors.read(path).tensors().isEmpty());
        assertTrue(SafeTensors.read(path).metadata().isEmpty());
    }

    @Test
    void saveReplacesAnExistingFile() throws IOException {
        Path path = directory.resolve("model.safetensors");
        SafeTensors.save(path, Map.of("a", Tensor.of(new float[] {1, 2})));
        SafeTensors.save(path, Map.of("b", Tensor.of(new float[] {3})));
        assertEquals(List.of("b"), List.copyOf(SafeTensors.load(path).keySet()));
        assertEquals(List.of(path), listing());
    }

    @Test
    void aFailureWhileWritingLeavesThePreviousFileIntactAndNoTemporaryFile() throws IOException {
        Path path = directory.resolve("model.safetensors");
        SafeTensors.save(path, Map.of("a", Tensor.of(new float[] {1, 2})));
        byte[] before = Files.readAllBytes(path);

        // A tensor whose data cannot be fetched: the failure comes after the temporary file
        // holds the header and the first tensor, and it works whatever the user's permissions.
        Backend failing = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, arguments) -> {
                    if (method.getName().equals("download")) {
                        throw new IllegalStateException("device lost");
                    }
                    try {
                        return method.invoke(CPU, arguments);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("fine", Tensor.randn(1, 300_000));
        Backends.use(failing);
        tensors.put("lost", Tensor.of(new float[] {1, 2, 3}));
        Backends.use(CPU);

        var error = assertThrows(IllegalStateException.class, () -> SafeTensors.save(path, tensors));
        assertEquals("device lost", error.getMessage());
        assertArrayEquals(before, Files.readAllBytes(path));
        assertEquals(List.of(path), listing());
    }

    @Test
    void aFailedRenameLeavesNoTemporaryFile() throws IOException {
        Path occupied = Files.createDirectory(directory.resolve("occupied"));
        Files.writeString(occupied.resolve("inside"), "keeps the directory non-empty");
        var error = assertThrows(UncheckedIOException.class,
                () -> SafeTensors.save(occupied, Map.of("a", Tensor.scalar(1))));
        assertTrue(error.getMessage().startsWith(occupied + ": cannot write: "), error.getMessage());
        assertEquals(List.of(occupied), listing());
        assertTrue(Files.isDirectory(occupied));
    }

    @Test
    void writingIntoAMissingDirectoryIsAnIoError() {
        Path nowhere = directory.resolve("missing").resolve("model.safetensors");
        var error = assertThrows(UncheckedIOException.class, () -> SafeTensors.save(nowhere, Map.of()));
        assertTrue(error.getMessage().startsWith(nowhere + ": cannot write: "), error.getMessage());
    }

    @Test
    void saveRefusesTheMetadataKeyAsATensorName() throws IOException {
        Path path = directory.resolve("model.safetensors");
        var error = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.save(path, Map.of("__metadata__", Tensor.scalar(1))));
        assertEquals(path + ": cannot name a tensor __metadata__, the key reserved for metadata", error.getMessage());
        assertEquals(List.of(), listing());
    }

    @Test
    void whatLoadWouldRefuseIsNotWrittenAndThePreviousFileStays() throws IOException {
        Path path = directory.resolve("model.safetensors");
        SafeTensors.save(path, Map.of("a", Tensor.of(new float[] {1, 2})));
        byte[] before = Files.readAllBytes(path);
        // A lone surrogate has no UTF-8 form: written as '?', two names would become one key.
        Map<String, Tensor> surrogates = new LinkedHashMap<>();
        surrogates.put("w\uD800", Tensor.scalar(1));
        surrogates.put("w\uDC00", Tensor.scalar(2));
        var error = assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(path, surrogates));
        assertEquals(path + ": a tensor name or metadata string holds a lone surrogate U+D800 (after \"{\"w\"), which "
                + "UTF-8 cannot encode", error.getMessage());
        // A header longer than a reader accepts (100,000,000 bytes).
        var large = assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(path,
                Map.of("a", Tensor.scalar(1)), Map.of("config", "x".repeat(100_000_001))));
        assertTrue(large.getMessage().startsWith(path + ": the header would take 100000"), large.getMessage());
        assertArrayEquals(before, Files.readAllBytes(path));
        assertEquals(List.of(path), listing());
    }
}
