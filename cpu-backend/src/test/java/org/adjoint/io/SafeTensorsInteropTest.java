package org.adjoint.io;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntToDoubleFunction;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.nn.Linear;
import org.adjoint.nn.ReLU;
import org.adjoint.nn.Sequential;
import org.adjoint.nn.Tanh;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interop with Hugging Face's {@code safetensors} library itself, in both directions.
 *
 * <p>The files under {@code org/adjoint/io/huggingface/} were written by that library
 * ({@code generate_fixtures.py} there says how to regenerate them). Their values follow
 * formulas that this test evaluates on its own, including the rounding to half and bfloat16
 * that the writer applied, so every element is checked exactly. The other direction runs the
 * library on a file that Adjoint wrote: it needs a Python with {@code safetensors} and
 * {@code numpy}, named by the system property {@code adjoint.test.python} or the environment
 * variable {@code ADJOINT_TEST_PYTHON} (a named one that does not work fails the test), else
 * {@code python3} when it can import them (when it cannot, that test is skipped and says why).
 */
class SafeTensorsInteropTest {

    private static final String FIXTURES = "/org/adjoint/io/huggingface/";
    private static final int[] SCALAR = {};

    @TempDir
    Path directory;

    @BeforeEach
    void selectBackend() {
        Backends.use(new CpuBackend());
    }

    private static Path fixture(String name) {
        URL url = SafeTensorsInteropTest.class.getResource(FIXTURES + name);
        if (url == null) {
            throw new IllegalStateException("test resource " + FIXTURES + name + " is missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code float32(i * 0.1 - 1)}: the double expression numpy evaluates, rounded once. */
    private static float tenth(int i) {
        return (float) (i * 0.1 - 1.0);
    }

    /** {@code i * 0.25 - 3}, exact in every format here. */
    private static float quarter(int i) {
        return (float) (i * 0.25 - 3.0);
    }

    private static float[] values(int count, IntToDoubleFunction formula) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = (float) formula.applyAsDouble(i);
        }
        return out;
    }

    /** A float32 rounded to half precision (nearest, ties to even) and back, as numpy and torch round. */
    private static float half(float value) {
        return Float.float16ToFloat(Float.floatToFloat16(value));
    }

    /** A float32 rounded to bfloat16 (nearest, ties to even) and back, as torch rounds. */
    private static float bfloat16(float value) {
        if (Float.isNaN(value)) {
            return Float.NaN;
        }
        int bits = Float.floatToRawIntBits(value);
        bits += 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(bits & 0xFFFF0000);
    }

    private static float[] map(float[] values, DoubleUnaryOperator rounding) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) rounding.applyAsDouble(values[i]);
        }
        return out;
    }

    private static void assertTensor(Map<String, Tensor> tensors, String name, int[] shape, float[] expected) {
        Tensor tensor = tensors.get(name);
        assertTrue(tensor != null, () -> name + " is missing from " + tensors.keySet());
        assertArrayEquals(shape, tensor.shape(), name + ": shape");
        // assertArrayEquals on floats compares bits (NaN equals NaN, -0 differs from 0).
        assertArrayEquals(expected, tensor.toFloatArray(), name + ": values");
    }

    @Test
    void readsF32F64AndF16WrittenByTheNumpyApi() {
        SafeTensors.Contents contents = SafeTensors.read(fixture("numpy.safetensors"));
        Map<String, Tensor> t = contents.tensors();
        assertEquals(Map.of("writer", "safetensors.numpy.save_file",
                "formula", "tenths: f32(i*0.1-1); quarters: i*0.25-3"), contents.metadata());
        assertEquals(13, t.size(), t.keySet().toString());

        assertTensor(t, "f32.quarters", new int[] {3, 4}, values(12, SafeTensorsInteropTest::quarter));
        assertTensor(t, "f32.tenths", new int[] {2, 3, 2}, values(12, SafeTensorsInteropTest::tenth));
        assertTensor(t, "f32.scalar", SCALAR, new float[] {-7.25f});
        assertTensor(t, "f32.empty", new int[] {0, 3}, new float[0]);
        assertTensor(t, "f32.extremes", new int[] {8}, new float[] {0f, -0f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, Float.MAX_VALUE, Float.MIN_VALUE, Float.MIN_NORMAL});

        // float64 narrowed to float32 by Adjoint, rounding to nearest as a Java cast does.
        assertTensor(t, "f64.tenths", new int[] {2, 5}, values(10, SafeTensorsInteropTest::tenth));
        assertTensor(t, "f64.scalar", SCALAR, new float[] {(float) (1.0 / 3.0)});
        assertTensor(t, "f64.extremes", new int[] {7}, new float[] {Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, 0.1f, Float.NaN});

        // Half values are what numpy rounded from float32; widening them is exact.
        assertTensor(t, "f16.quarters", new int[] {2, 2, 2}, values(8, SafeTensorsInteropTest::quarter));
        assertTensor(t, "f16.tenths", new int[] {4, 6},
                map(values(24, SafeTensorsInteropTest::tenth), v -> half((float) v)));
        assertTensor(t, "f16.scalar", SCALAR, new float[] {half((float) (1.0 / 3.0))});
        assertTensor(t, "f16.empty", new int[] {2, 0}, new float[0]);
        float[] halfExtremes = {65504f, -65504f, 70000f, 65520f, 0x1p-24f, 0x1p-14f, 0x1p-25f, 3 * 0x1p-26f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -0f, 1 + 0x1p-11f, 1 + 3 * 0x1p-11f};
        assertTensor(t, "f16.extremes", new int[] {14}, map(halfExtremes, v -> half((float) v)));
    }

    @Test
    void readsBf16F16AndF32WrittenByTheTorchApi() {
        SafeTensors.Contents contents = SafeTensors.read(fixture("torch.safetensors"));
        Map<String, Tensor> t = contents.tensors();
        assertEquals(Map.of("format", "pt", "writer", "safetensors.torch.save_file"), contents.metadata());
        assertEquals(7, t.size(), t.keySet().toString());

        assertTensor(t, "bf16.tenths", new int[] {3, 5},
                map(values(15, SafeTensorsInteropTest::tenth), v -> bfloat16((float) v)));
        assertTensor(t, "bf16.quarters", new int[] {6}, values(6, SafeTensorsInteropTest::quarter));
        assertTensor(t, "bf16.scalar", SCALAR, new float[] {bfloat16((float) Math.PI)});
        assertTensor(t, "bf16.empty", new int[] {0}, new float[0]);
        float[] bfloatExtremes = {1e38f, -3e38f, 3.4e38f, 1e-40f, 0x1p-133f, Float.POSITIVE_INFINITY, Float.NaN, -0f,
            1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 1 + 0x1p-8f + 0x1p-20f};
        assertTensor(t, "bf16.extremes", new int[] {11}, map(bfloatExtremes, v -> bfloat16((float) v)));
        assertTensor(t, "f16.tenths", new int[] {2, 2},
                map(values(4, SafeTensorsInteropTest::tenth), v -> half((float) v)));
        assertTensor(t, "f32.tenths", new int[] {2, 3}, values(6, SafeTensorsInteropTest::tenth));
    }

    /** The rounding helpers above, pinned to values worked out by hand: they cannot agree with a wrong reader. */
    @Test
    void theRoundingOfTheWritersIsWhatTheHelpersCompute() {
        // -0.7 = -1.4 * 2^-1: 1.4 * 2^10 = 1433.6 rounds to 1434; 1.4 * 2^7 = 179.2 rounds to 179.
        assertEquals(-1434f / 2048, half(tenth(3)));
        assertEquals(-179f / 256, bfloat16(tenth(3)));
        Map<String, Tensor> numpy = SafeTensors.load(fixture("numpy.safetensors"));
        Map<String, Tensor> torch = SafeTensors.load(fixture("torch.safetensors"));
        assertEquals(-0.7001953125f, numpy.get("f16.tenths").toFloatArray()[3]);
        assertEquals(-0.69921875f, torch.get("bf16.tenths").toFloatArray()[3]);
        float[] bf16 = torch.get("bf16.extremes").toFloatArray();
        assertEquals(Float.POSITIVE_INFINITY, bf16[2], "3.4e38 is above bfloat16's largest finite value");
        assertEquals(1f, bf16[8], "1 + 2^-8 is a tie, to even: 1");
        assertEquals(1.015625f, bf16[9], "1 + 3 * 2^-8 is a tie, to even: 1 + 2^-6");
        assertEquals(1.0078125f, bf16[10], "just above a tie rounds up: 1 + 2^-7");
        float[] f16 = numpy.get("f16.extremes").toFloatArray();
        assertEquals(Float.POSITIVE_INFINITY, f16[2], "70000 overflows half");
        assertEquals(Float.POSITIVE_INFINITY, f16[3], "65520 is a tie between 65504 and 2^16, to even: infinity");
        assertEquals(0f, f16[6], "2^-25 is a tie between 0 and 2^-24, to even: 0");
        assertEquals(0x1p-24f, f16[7], "3 * 2^-26 rounds up to the smallest subnormal");
        assertEquals(1f, f16[12], "1 + 2^-11 is a tie, to even: 1");
        assertEquals(1 + 0x1p-9f, f16[13], "1 + 3 * 2^-11 is a tie, to even: 1 + 2^-9");
    }

    /** PyTorch's {@code nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 8), Tanh(), Linear(8, 3))}, in Adjoint. */
    private static Sequential adjointMlp() {
        return new Sequential(new Linear(4, 8, 1), new ReLU(), new Linear(8, 8, 2), new Tanh(), new Linear(8, 3, 3));
    }

    /** PyTorch stores a linear weight as [out, in], Adjoint as [in, out]. */
    private static Map<String, Tensor> transposeWeights(Map<String, Tensor> state, List<String> names) {
        Map<String, Tensor> out = new LinkedHashMap<>(state);
        for (String name : names) {
            out.put(name, state.get(name).transpose());
        }
        return out;
    }

    private static void assertClose(float[] expected, float[] actual, String label) {
        assertEquals(expected.length, actual.length, label);
        for (int i = 0; i < expected.length; i++) {
            float tolerance = 1e-6f + 1e-5f * Math.abs(expected[i]);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance,
                    label + ": element " + i + " is " + actual[i] + ", PyTorch gave " + expected[i]);
        }
    }

    @Test
    void aPyTorchStateDictLoadsIntoTheSameModelOnceItsWeightsAreTransposed() {
        Map<String, Tensor> state = SafeTensors.load(fixture("torch_mlp.safetensors"));
        Map<String, Tensor> io = SafeTensors.load(fixture("torch_mlp_io.safetensors"));
        assertEquals(List.of("0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"),
                state.keySet().stream().sorted().toList());
        assertArrayEquals(new int[] {8, 4}, state.get("0.weight").shape(), "PyTorch's [out, in]");
        Sequential model = adjointMlp();
        assertEquals(new TreeMap<>(state).keySet(), new TreeMap<>(model.stateDict()).keySet(), "the same names");

        // As saved, the shapes differ wherever in != out, and nothing is copied.
        float[] before = model.parameters().get(0).toFloatArray();
        var error = assertThrows(IllegalArgumentException.class, () -> model.loadStateDict(state));
        assertEquals("loadStateDict: '0.weight' has shape [8, 4], the module needs [4, 8]; "
                + "'4.weight' has shape [3, 8], the module needs [8, 3]", error.getMessage());
        assertArrayEquals(before, model.parameters().get(0).toFloatArray());

        model.loadStateDict(transposeWeights(state, List.of("0.weight", "2.weight", "4.weight")));
        Tensor output = model.apply(io.get("input"));
        assertArrayEquals(new int[] {5, 3}, output.shape());
        assertClose(io.get("output").toFloatArray(), output.toFloatArray(), "forward pass");

        // A square layer loads without its transpose, since the shapes agree, and computes something else.
        Sequential wrong = adjointMlp();
        wrong.loadStateDict(transposeWeights(state, List.of("0.weight", "4.weight")));
        assertFalse(Arrays.equals(output.toFloatArray(), wrong.apply(io.get("input")).toFloatArray()));
    }

    @Test
    void theLibraryReadsWhatAdjointWrites() throws IOException, InterruptedException {
        String python = python();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("layer.weight", Tensor.of(values(12, SafeTensorsInteropTest::quarter), 3, 4));
        tensors.put("tenths", Tensor.of(values(12, SafeTensorsInteropTest::tenth), 2, 3, 2));
        tensors.put("scalar", Tensor.scalar(-7.25f));
        tensors.put("empty", Tensor.of(new float[0], 0, 3));
        tensors.put("extremes", Tensor.of(new float[] {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.NaN, Float.MAX_VALUE, Float.MIN_VALUE, Float.MIN_NORMAL}));
        tensors.put("ünïcode \"name\"", Tensor.of(new float[] {42}, 1, 1));
        Map<String, String> metadata = Map.of("format", "pt", "note", "line\nbreak, ünïcode");
        Path file = directory.resolve("adjoint.safetensors");
        SafeTensors.save(file, tensors, metadata);

        List<String> lines = run(python, script("check_adjoint_file.py").toString(), file.toString());
        HexFormat hex = HexFormat.of();
        List<String> expected = new ArrayList<>();
        new TreeMap<>(metadata).forEach((key, value) -> expected.add("metadata " + hex.formatHex(key.getBytes(UTF_8))
                + " " + hex.formatHex(value.getBytes(UTF_8))));
        // The script lists tensors by name in Python's order: code points, as Java sorts strings here.
        new TreeMap<>(tensors).forEach((name, tensor) -> {
            List<String> shape = Arrays.stream(tensor.shape()).mapToObj(Integer::toString).toList();
            List<String> bits = new ArrayList<>();
            for (float value : tensor.toFloatArray()) {
                bits.add(String.format("%08x", Float.floatToRawIntBits(value)));
            }
            expected.add("tensor " + hex.formatHex(name.getBytes(UTF_8)) + " float32 "
                    + (shape.isEmpty() ? "-" : String.join(",", shape)) + " "
                    + (bits.isEmpty() ? "-" : String.join(",", bits)));
        });
        assertTrue(lines.getFirst().startsWith("library "), lines.toString());
        assertEquals(expected, lines.subList(1, lines.size()), "what " + lines.getFirst() + " read");
    }

    @Test
    void pyTorchLoadsAStateDictThatAdjointSavesInItsLayout() throws IOException, InterruptedException {
        String python = python();
        String problem = probe(python, "import torch, safetensors.torch");
        Assumptions.assumeTrue(problem == null, () -> "no PyTorch to load Adjoint's state dict into: " + problem);
        Sequential model = adjointMlp(); // Adjoint's own seeded weights, not PyTorch's
        Map<String, Tensor> state = model.stateDict();
        Path file = directory.resolve("adjoint_mlp.safetensors");
        SafeTensors.save(file, transposeWeights(state, List.of("0.weight", "2.weight", "4.weight")),
                Map.of("format", "pt"));
        script("generate_fixtures.py");
        Tensor input = SafeTensors.load(fixture("torch_mlp_io.safetensors")).get("input");

        List<String> lines = run(python, script("load_into_torch.py").toString(), file.toString(),
                fixture("torch_mlp_io.safetensors").toString());
        assertEquals(2, lines.size(), lines.toString());
        String[] output = lines.get(1).split(" ");
        assertEquals("output", output[0], lines.toString());
        assertEquals("5,3", output[1], "the output's shape");
        String[] bits = output[2].split(",");
        float[] fromTorch = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            fromTorch[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(bits[i], 16));
        }
        assertClose(model.apply(input).toFloatArray(), fromTorch, lines.getFirst() + " on Adjoint's weights");
    }

    private Path script(String name) throws IOException {
        try (InputStream in = SafeTensorsInteropTest.class.getResourceAsStream(FIXTURES + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + FIXTURES + name + " is missing");
            }
            Path copy = directory.resolve(name);
            Files.copy(in, copy);
            return copy;
        }
    }

    /** The Python to run the library with, or a skipped test that says why there is none. */
    private String python() throws IOException, InterruptedException {
        String property = System.getProperty("adjoint.test.python");
        String variable = System.getenv("ADJOINT_TEST_PYTHON");
        String named = property != null && !property.isBlank() ? property
                : variable != null && !variable.isBlank() ? variable : null;
        String candidate = named != null ? named : "python3";
        String problem = probe(candidate, "import numpy, safetensors.numpy");
        if (problem == null) {
            return candidate;
        }
        if (named != null) {
            return fail("the Python named by " + (property != null && !property.isBlank() ? "-Dadjoint.test.python"
                    : "ADJOINT_TEST_PYTHON") + " cannot run the check: " + problem);
        }
        return Assumptions.abort("no Python with Hugging Face's safetensors to read Adjoint's file: " + problem
                + "; install safetensors and numpy for python3, or name an interpreter that has them with "
                + "-Dadjoint.test.python=PATH or ADJOINT_TEST_PYTHON");
    }

    /** Why {@code python} cannot run {@code imports}, or {@code null} when it can. */
    private String probe(String python, String imports) throws InterruptedException {
        try {
            run(python, "-c", imports);
            return null;
        } catch (IOException e) {
            // The last line says it (ModuleNotFoundError: ...); the traceback above it does not.
            String message = e.getMessage().strip();
            return message.substring(message.lastIndexOf('\n') + 1);
        }
    }

    /** Runs a command; its standard output as lines, or an IOException with what it wrote to standard error. */
    private List<String> run(String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(directory, "stdout", ".txt");
        Path err = Files.createTempFile(directory, "stderr", ".txt");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within 120 s");
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + process.exitValue() + ": "
                    + Files.readString(err, UTF_8).strip());
        }
        return Files.readAllLines(out, UTF_8);
    }
}
