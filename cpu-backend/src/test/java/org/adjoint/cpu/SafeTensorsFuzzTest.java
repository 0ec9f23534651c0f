package org.adjoint.cpu;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.io.FileFuzzer;
import org.adjoint.io.SafeTensors;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Module;
import org.adjoint.nn.Sequential;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SafeTensors} under {@link FileFuzzer}: truncated, bit-flipped, spliced and
 * gzip-wrapped versions of valid files, random JSON-ish headers, headers whose lengths,
 * shapes and offsets claim more than the file holds, and random bytes; and loading each
 * mutant of a saved model into that model, which must leave it either untouched or holding
 * exactly the file's values, never partly filled.
 *
 * <p>The reader does not depend on the kernels, so the scalar-provider run of this module's
 * suites skips it.
 */
class SafeTensorsFuzzTest {

    private static final String[] DTYPES = {"F32", "F32", "F16", "BF16", "F64"};
    private static final String[] ODD_DTYPES = {"I16", "U8", "f32", "", "F32 ", "BOOL", "F8_E4M3"};
    private static final String[] NAMES = {"w", "b", "layer.0.weight", "", "ünï", "a\\\"b", "\\u0000", "__metadata__",
        "w"};
    private static final String[] ODD_NUMBERS = {"-1", "1.5", "1e3", "1E400", "-0", "0.0", "2147483647", "2147483648",
        "4294967296", "1099511627776", "9223372036854775807", "9223372036854775808", "18446744073709551616", "1e-3",
        "true", "null", "\"3\"", "[]", "{}", "[1]"};
    private static final String JSON_NOISE = "{}[]\",:-0e\\ \t\u00e9\uD83D\uDE00";
    private static final long[] LENGTH_CLAIMS = {-1L, 0, 1, 7, 9, 100_000_000L, 100_000_001L, 1L << 31, 1L << 32,
        Long.MAX_VALUE, Long.MIN_VALUE};

    @TempDir
    Path directory;

    @RegisterExtension
    final OwnCpuBackend backend = new OwnCpuBackend();

    @BeforeEach
    void onceForBothProviders() {
        assumeFalse("scalar".equals(System.getProperty("adjoint.cpu.kernels")),
                "file readers do not depend on the kernel provider");
    }

    static void checkContents(SafeTensors.Contents contents) {
        for (var entry : contents.tensors().entrySet()) {
            long elements = 1;
            for (int size : entry.getValue().shape()) {
                assertTrue(size >= 0);
                elements *= size;
            }
            assertEquals(elements, entry.getValue().toFloatArray().length, entry.getKey());
        }
    }

    /** A file laid out as the reference writes it: length, JSON padded with spaces to 8 bytes, data. */
    static byte[] file(String json, byte[] data) {
        byte[] header = json.getBytes(UTF_8);
        int padded = header.length + (8 - header.length % 8) % 8;
        ByteBuffer buffer = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(padded).put(header);
        while (buffer.position() < 8 + padded) {
            buffer.put((byte) ' ');
        }
        return buffer.put(data).array();
    }

    private static Sequential model() {
        return new Sequential(new Linear(5, 4, Activation.RELU, 1), new Linear(4, 3, Activation.IDENTITY, 2));
    }

    /** Valid files: a saved model with metadata, every dtype with scalar and empty tensors, and no tensors. */
    private byte[][] seeds() throws IOException {
        Path saved = directory.resolve("seed.safetensors");
        SafeTensors.save(saved, model().namedParameters(), Map.of("format", "pt"));
        byte[] model = Files.readAllBytes(saved);
        String mixed = "{\"half\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[24,30]},"
                + "\"brain\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[30,34]},"
                + "\"double\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,24]},"
                + "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[34,38]},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[38,38]}}";
        byte[] data = new byte[38];
        new SplittableRandom(5).nextBytes(data);
        return new byte[][] {model, file(mixed, data), file("{}", new byte[0])};
    }

    @Test
    void everyMalformedFileFailsCleanly() throws IOException {
        FileFuzzer fuzzer = new FileFuzzer(directory, "fuzzed.safetensors", 0x5AFEL,
                FileFuzzer.JSON_BYTES_PER_INPUT_BYTE);
        byte[][] seeds = seeds();
        for (int i = 0; i < seeds.length; i++) {
            fuzzer.battery("seed" + i, seeds[i], true, 60, SafeTensors::read, SafeTensorsFuzzTest::checkContents);
        }
        for (int i = 0; i < 1_200 * FileFuzzer.scale(); i++) {
            check(fuzzer.run("json-header", randomHeaderFile(fuzzer.random()), SafeTensors::read));
        }
        lengthClaims(fuzzer);
        fuzzer.randomFiles(150, 64, SafeTensors::read, SafeTensorsFuzzTest::checkContents);
        System.out.println(fuzzer.summary("SafeTensors.read"));
        assertTrue(fuzzer.cases() >= 3_000, fuzzer.summary("SafeTensors.read"));
    }

    @Test
    void loadingAMutantIntoAModelIsAllOrNothing() throws IOException {
        Sequential model = model();
        Path saved = directory.resolve("model.safetensors");
        SafeTensors.save(saved, model.namedParameters());
        byte[] valid = Files.readAllBytes(saved);
        Map<String, float[]> original = values(model);
        Map<String, Tensor> originalTensors = SafeTensors.load(saved);
        Map<String, float[]> expected = new LinkedHashMap<>(original);

        FileFuzzer fuzzer = new FileFuzzer(directory, "fuzzed-model.safetensors", 0x10ADL,
                FileFuzzer.JSON_BYTES_PER_INPUT_BYTE);
        fuzzer.afterEachCase(() -> {
            Map<String, float[]> now = values(model);
            for (String name : original.keySet()) {
                assertArrayEquals(bits(expected.get(name)), bits(now.get(name)),
                        "parameter " + name + " is neither as before nor as in the file");
            }
            if (!expected.equals(original)) {
                model.loadStateDict(originalTensors);
                expected.putAll(original);
            }
        });
        fuzzer.battery("model", valid, true, 150, file -> loadInto(model, file, expected), loaded -> { });
        System.out.println(fuzzer.summary("Module.loadStateDict(SafeTensors.load(...))"));
        assertTrue(fuzzer.cases() >= 1_000, fuzzer.summary("loadStateDict"));
    }

    /** Loads the file into the model; on success, records the file's values as what the model must hold. */
    private static Map<String, float[]> loadInto(Module model, Path file, Map<String, float[]> expected) {
        Map<String, Tensor> loaded = SafeTensors.load(file);
        try {
            model.loadStateDict(loaded);
        } catch (IllegalArgumentException e) {
            // What a caller reports: the state dictionary's complaint, attributed to the file.
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        loaded.forEach((name, tensor) -> values.put(name, tensor.toFloatArray()));
        expected.putAll(values);
        return values;
    }

    private static Map<String, float[]> values(Module model) {
        Map<String, float[]> values = new LinkedHashMap<>();
        model.namedParameters().forEach((name, tensor) -> values.put(name, tensor.toFloatArray()));
        return values;
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    private static void check(SafeTensors.Contents contents) {
        if (contents != null) {
            checkContents(contents);
        }
    }

    /** A well-formed or nearly well-formed header over data of about the right length, with odd values mixed in. */
    private static byte[] randomHeaderFile(SplittableRandom random) {
        List<String> members = new ArrayList<>();
        if (random.nextInt(4) == 0) {
            members.add("\"__metadata__\":" + (random.nextInt(3) == 0 ? pick(random, ODD_NUMBERS)
                    : "{\"format\":\"pt\",\"k\":" + (random.nextBoolean() ? "\"v\"" : pick(random, ODD_NUMBERS)) + "}"));
        }
        long offset = 0;
        for (int t = random.nextInt(5); t > 0; t--) {
            String dtype = random.nextInt(8) == 0 ? pick(random, ODD_DTYPES) : pick(random, DTYPES);
            int elementBytes = switch (dtype) {
                case "F16", "BF16" -> 2;
                case "F64" -> 8;
                default -> 4;
            };
            List<String> dims = new ArrayList<>();
            long elements = 1;
            for (int d = random.nextInt(4); d > 0; d--) {
                String dim = random.nextInt(8) == 0 ? pick(random, ODD_NUMBERS) : String.valueOf(random.nextInt(4));
                dims.add(dim);
                elements = saturatingProduct(elements, dim);
            }
            long end = saturatingAdd(offset, saturatingProduct(elements, String.valueOf(elementBytes)));
            String begin = random.nextInt(10) == 0 ? pick(random, ODD_NUMBERS) : String.valueOf(offset);
            String finish = random.nextInt(10) == 0 ? String.valueOf(end + random.nextInt(3) - 1)
                    : random.nextInt(20) == 0 ? pick(random, ODD_NUMBERS) : String.valueOf(end);
            offset = end;
            List<String> fields = new ArrayList<>(List.of("\"dtype\":\"" + dtype + "\"",
                    "\"shape\":" + (random.nextInt(20) == 0 ? pick(random, ODD_NUMBERS) : "[" + String.join(",", dims) + "]"),
                    "\"data_offsets\":[" + begin + "," + finish + "]"));
            if (random.nextInt(12) == 0) {
                fields.remove(random.nextInt(fields.size()));
            }
            if (random.nextInt(6) == 0) {
                fields.add("\"extra\":" + pick(random, ODD_NUMBERS));
            }
            Collections.shuffle(fields, new Random(random.nextLong()));
            members.add("\"" + pick(random, NAMES) + (random.nextInt(3) == 0 ? "" : String.valueOf(t)) + "\":{"
                    + String.join(",", fields) + "}");
        }
        StringBuilder json = new StringBuilder("{" + String.join(",", members) + "}");
        if (random.nextInt(4) == 0 && json.length() > 0) {
            int at = random.nextInt(json.length());
            switch (random.nextInt(3)) {
                case 0 -> json.deleteCharAt(at);
                case 1 -> json.insert(at, JSON_NOISE.charAt(random.nextInt(JSON_NOISE.length())));
                default -> json.setLength(at);
            }
        }
        int dataLength = offset <= 4096 && random.nextInt(5) != 0 ? (int) offset
                : random.nextInt(5) == 0 ? Math.max(0, (int) Math.min(4096, offset) + random.nextInt(3) - 1)
                : random.nextInt(64);
        byte[] data = new byte[dataLength];
        random.nextBytes(data);
        byte[] bytes = file(json.toString(), data);
        if (random.nextInt(10) == 0) {
            long claim = random.nextBoolean() ? LENGTH_CLAIMS[random.nextInt(LENGTH_CLAIMS.length)]
                    : bytes.length - 8 + random.nextInt(17) - 8;
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, claim);
        }
        return bytes;
    }

    /** Header lengths of every magnitude in front of a valid header and its data. */
    private static void lengthClaims(FileFuzzer fuzzer) {
        byte[] valid = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
        for (long claim : LENGTH_CLAIMS) {
            byte[] bytes = valid.clone();
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, claim);
            fuzzer.mustReject("length-claim", bytes, SafeTensors::read);
        }
        for (int delta = -(valid.length - 8); delta <= 16; delta++) {
            if (delta != 0) {
                byte[] bytes = valid.clone();
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, valid.length - 16 + delta);
                fuzzer.mustReject("length-claim", bytes, SafeTensors::read);
            }
        }
        // Shapes whose offsets agree with them and claim up to 2^63 bytes: only the file size can stop them.
        for (String shape : new String[] {"[1073741824]", "[1048576,1048576]", "[2147483647,2147483647]",
            "[2147483647,2147483647,2]", "[536870911]", "[536870912]"}) {
            long elements = 1;
            for (String dim : shape.substring(1, shape.length() - 1).split(",")) {
                elements = saturatingProduct(elements, dim);
            }
            String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[0,"
                    + saturatingProduct(elements, "4") + "]}}";
            fuzzer.mustReject("shape-claim", file(json, new byte[16]), SafeTensors::read);
        }
        // Numbers of up to two million digits, which a parser in quadratic time takes minutes over.
        int[] lengths = {1_001, 100_000, 1_000_000, 2_000_000};
        for (int i = 0; i < lengths.length; i++) {
            String digits = "1".repeat(lengths[i]);
            String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + (i % 2 == 0 ? digits : "1") + "],\"data_offsets\":[0,"
                    + (i % 2 == 0 ? "4" : digits) + "]}}";
            fuzzer.mustReject("long-number", file(json, new byte[4]), SafeTensors::read);
        }
        // A rank of 100,000: a valid file of one element that the reader must neither choke on nor refuse.
        String ones = "1,".repeat(99_999) + "1";
        check(fuzzer.run("high-rank", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + ones + "],\"data_offsets\":[0,4]}}",
                new byte[4]), SafeTensors::read));
    }

    private static long saturatingProduct(long elements, String dim) {
        try {
            long value = Long.parseLong(dim);
            return value < 0 ? elements : Math.multiplyExact(elements, value);
        } catch (NumberFormatException | ArithmeticException e) {
            return elements;
        }
    }

    private static long saturatingAdd(long a, long b) {
        try {
            return Math.addExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static String pick(SplittableRandom random, String[] choices) {
        return choices[random.nextInt(choices.length)];
    }
}
