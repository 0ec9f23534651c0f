package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Both providers give the same bits whether a kernel runs interpreted, compiled by C1 or
 * compiled by C2, and on every call: so that a training run is reproducible whatever the JIT
 * compiled when. Each computation below (sums over an axis and over everything, a mean,
 * softmax and log-softmax, max, a linear layer's three gradients, cross-entropy, the
 * transcendental functions) runs {@value #REPEATS} times in this JVM, enough for C2 to
 * compile its loops part-way, and every result must equal the first bit for bit; then child
 * JVMs with {@code -Xint} and with only C1 must give the same bits again.
 *
 * <p>What this catches: {@code reduceLanes(ADD)}, whose lane order differs between the
 * Vector API's Java fallback and C2's intrinsic (a sum of 4,099 floats changed its last bit
 * after a few hundred calls), and the Vector API's {@code EXP} and {@code LOG} (an
 * intrinsic when compiled, a Java fallback when interpreted).
 */
class DeterminismTest {

    /** Calls per computation in this JVM: thousands, so that C2 compiles the loops during them. */
    static final int REPEATS = 3000;
    /**
     * Calls per computation in the C1-only child: enough for C1 to compile the scalar loops.
     * The vector kernels run the Vector API's Java fallback under C1, as interpreted, and
     * slowly (boxed vectors), so they get a few calls, in which C1 compiles the long loops.
     */
    private static final Map<String, Integer> C1_REPEATS = Map.of("scalar", 300, "vector", 10);
    /** Not a multiple of any lane count, so that every vector loop has a tail. */
    private static final int N = 4099;

    /**
     * The computations, by name, on the given kernels; each call computes from scratch on the
     * same inputs (drawn from fixed seeds) and returns a new array.
     */
    static Map<String, Supplier<float[]>> cases(KernelProvider kernels) {
        Map<String, Supplier<float[]>> cases = new LinkedHashMap<>();
        float[] wide = data(1, 8 * N, -1, 1);
        float[] logits = data(2, 8 * N, -20, 20);
        cases.put("sum of [4099]", () -> sumTo(kernels, prefix(wide, N), new int[] {N}, 1, new int[] {0}));
        cases.put("sum over axis 1 of [8, 4099] (a broadcast column's gradient)",
                () -> sumTo(kernels, wide, new int[] {8, N}, 8, new int[] {1, 0}));
        float[] tall = data(3, 37 * N, -1, 1);
        cases.put("sum over axis 0 of [37, 4099]", () -> sumTo(kernels, tall, new int[] {37, N}, N, new int[] {0, 1}));
        float[] cube = data(4, 5 * 263 * 19, -1, 1);
        cases.put("sum over axes 0 and 2 of [5, 263, 19]",
                () -> sumTo(kernels, cube, new int[] {5, 263, 19}, 263, new int[] {0, 1, 0}));
        cases.put("mean of [8, 4099]", () -> {
            float[] sum = sumTo(kernels, wide, new int[] {8, N}, 1, new int[] {0, 0});
            float[] mean = new float[1];
            kernels.binary(Strided.Binary.DIV, sum, new int[0], new float[] {8 * N}, new int[0], mean, new int[0]);
            return mean;
        });
        for (boolean log : new boolean[] {false, true}) {
            String name = log ? "log-softmax" : "softmax";
            cases.put(name + " along axis 1 of [8, 4099]", () -> {
                float[] out = new float[logits.length];
                kernels.softmax(logits, 8, N, 1, log, out);
                return out;
            });
            cases.put(name + " along axis 1 of [4, 257, 3]", () -> {
                float[] out = new float[4 * 257 * 3];
                kernels.softmax(logits, 4, 257, 3, log, out);
                return out;
            });
        }
        float[] ties = data(5, 8 * N, -1, 1);
        for (int i = 0; i < ties.length; i += 7) {
            ties[i] = i % 2 == 0 ? 0f : -0f; // ties between signed zeros
        }
        cases.put("max along axis 1 of [8, 4099], with its mask", () -> {
            float[] values = new float[8 + 8 * N];
            float[] mask = new float[8 * N];
            AxisReductions.max(ties, 8, N, 1, values, mask);
            System.arraycopy(mask, 0, values, 8, mask.length);
            return values;
        });
        cases.put("max along axis 0 of [8, 4099]", () -> {
            float[] values = new float[N];
            AxisReductions.max(ties, 1, 8, N, values, null);
            return values;
        });
        // A linear layer y = x·W + b with x [600, 45] and W [45, 37]: 600 rows are more than one
        // block of k (512), and neither 45 nor 37 is a whole number of tiles.
        int batch = 600;
        int in = 45;
        int out = 37;
        float[] x = data(6, batch * in, -1, 1);
        float[] w = data(7, in * out, -0.3, 0.3);
        float[] g = data(8, batch * out, -1, 1);
        cases.put("linear: weight gradient x^T·g", () -> gemm(kernels, true, false, in, out, batch, x, g));
        cases.put("linear: input gradient g·W^T", () -> gemm(kernels, false, true, batch, in, out, g, w));
        cases.put("linear: bias gradient (sum over the batch)",
                () -> sumTo(kernels, g, new int[] {batch, out}, out, new int[] {0, 1}));
        cases.put("linear: weight gradient of 10 outputs", () -> gemm(kernels, true, false, in, 10, batch, x, g));
        cases.put("linear: weight gradient of one output", () -> gemm(kernels, true, false, in, 1, batch, x, g));
        cases.put("linear: forward with bias and tanh", () -> {
            float[] y = gemm(kernels, false, false, batch, out, in, x, w);
            kernels.biasActivation(Fused.Activation.TANH, y, prefix(g, out), batch, out);
            return y;
        });
        cases.put("gelu's gradient times a cotangent in one pass", () -> {
            float[] result = new float[batch * out];
            kernels.unaryTimes(ElementWise.Unary.GELU_GRAD, data(10, batch * out, -4, 4), g, result, result.length);
            return result;
        });
        cases.put("linear: tanh's gradient", () -> {
            float[] result = new float[batch * out];
            kernels.activationGrad(Fused.Activation.TANH, data(9, batch * out, -1, 1), g, result, result.length);
            return result;
        });
        float[] labels = new float[batch];
        for (int r = 0; r < batch; r++) {
            labels[r] = r % 10;
        }
        cases.put("cross-entropy loss and gradient, [600, 10]", () -> {
            float[] logProbabilities = new float[batch * 10];
            kernels.softmax(logits, batch, 10, 1, true, logProbabilities);
            float[] result = new float[1 + batch * 10];
            result[0] = Fused.meanNegativeLogLikelihood(logProbabilities, labels, batch, 10);
            float[] grad = new float[batch * 10];
            Fused.crossEntropyGrad(logProbabilities, labels, batch, 10, 1f / batch, grad);
            System.arraycopy(grad, 0, result, 1, grad.length);
            return result;
        });
        cases.put("layer norm and its gradients", () -> {
            int rows = 12;
            int size = 37;
            float[] normInput = data(11, rows * size, -3, 3);
            float[] normWeight = data(12, size, 0.5, 1.5);
            float[] mean = new float[rows];
            float[] rstd = new float[rows];
            float[] result = new float[2 * rows * size + size];
            kernels.layerNorm(normInput, normWeight, data(13, size, -1, 1), rows, size, 1e-5f, result, mean, rstd);
            float[] dx = new float[rows * size];
            float[] dweight = new float[size];
            float[] dy = data(14, rows * size, -1, 1);
            kernels.layerNormGrad(normInput, normWeight, mean, rstd, dy, rows, size, dx, dweight);
            System.arraycopy(dx, 0, result, rows * size, dx.length);
            System.arraycopy(dweight, 0, result, 2 * rows * size, size);
            return result;
        });
        for (ElementWise.Unary function : new ElementWise.Unary[] {ElementWise.Unary.EXP, ElementWise.Unary.LOG,
                ElementWise.Unary.TANH, ElementWise.Unary.SIGMOID, ElementWise.Unary.GELU,
                ElementWise.Unary.GELU_GRAD}) {
            float[] inputs = function == ElementWise.Unary.LOG ? data(10, N, 1e-3, 30) : data(10, N, -20, 20);
            cases.put(function.name().toLowerCase(java.util.Locale.ROOT), () -> {
                float[] result = new float[N];
                kernels.unary(function, 0f, inputs, 0, result, 0, N);
                return result;
            });
        }
        return cases;
    }

    private static float[] data(long seed, int n, double low, double high) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextDouble(low, high);
        }
        return x;
    }

    private static float[] prefix(float[] x, int n) {
        return java.util.Arrays.copyOf(x, n);
    }

    private static float[] sumTo(KernelProvider kernels, float[] src, int[] shape, int outSize, int[] outStrides) {
        float[] out = new float[outSize];
        kernels.sumTo(src, shape, out, outStrides);
        return out;
    }

    /** {@code op(A)·op(B)} with A and B stored densely: {@code m × n}, inner dimension k. */
    private static float[] gemm(KernelProvider kernels, boolean transA, boolean transB, int m, int n, int k,
                                float[] a, float[] b) {
        float[] c = new float[m * n];
        kernels.sgemm(transA, transB, m, n, k, 1f, a, 0, transA ? m : k, b, 0, transB ? k : n, 0f, c, 0, n);
        return c;
    }

    /**
     * The provider by name without {@link KernelProvider#named}'s check, which refuses the
     * vector one without C2.
     */
    static KernelProvider provider(String name) {
        return name.equals("vector") ? VectorKernels.INSTANCE : ScalarKernels.INSTANCE;
    }

    /**
     * Runs every computation {@code repeats} times, fails at the first call whose bits differ
     * from the first call's, and returns the first results.
     */
    static Map<String, int[]> repeat(KernelProvider kernels, int repeats) {
        Map<String, int[]> results = new LinkedHashMap<>();
        for (Map.Entry<String, Supplier<float[]>> entry : cases(kernels).entrySet()) {
            int[] first = bits(entry.getValue().get());
            for (int call = 1; call < repeats; call++) {
                int[] again = bits(entry.getValue().get());
                int differs = firstDifference(first, again);
                if (differs >= 0) {
                    throw new AssertionError(kernels.name() + " kernels, " + entry.getKey() + ": call " + (call + 1)
                            + " of " + repeats + " differs from the first at element " + differs + ": "
                            + describe(first, differs) + " then " + describe(again, differs));
                }
            }
            results.put(entry.getKey(), first);
        }
        return results;
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    private static int firstDifference(int[] expected, int[] actual) {
        if (expected.length != actual.length) {
            return Math.min(expected.length, actual.length);
        }
        return java.util.Arrays.mismatch(expected, actual);
    }

    private static String describe(int[] bits, int index) {
        return index >= bits.length ? "(no element)"
                : String.format(java.util.Locale.ROOT, "%08x (%s)", bits[index], Float.intBitsToFloat(bits[index]));
    }

    /** Runs the computations in a child JVM: arguments provider, repeats, output file. */
    static final class Probe {

        private Probe() {
        }

        public static void main(String[] args) throws IOException {
            Map<String, int[]> results = repeat(provider(args[0]), Integer.parseInt(args[1]));
            try (OutputStream file = Files.newOutputStream(Path.of(args[2]));
                 DataOutputStream out = new DataOutputStream(file)) {
                out.writeInt(results.size());
                for (Map.Entry<String, int[]> entry : results.entrySet()) {
                    out.writeUTF(entry.getKey());
                    out.writeInt(entry.getValue().length);
                    for (int v : entry.getValue()) {
                        out.writeInt(v);
                    }
                }
            }
        }

        static Map<String, int[]> read(Path path) throws IOException {
            Map<String, int[]> results = new LinkedHashMap<>();
            try (InputStream file = Files.newInputStream(path); DataInputStream in = new DataInputStream(file)) {
                int count = in.readInt();
                for (int c = 0; c < count; c++) {
                    String name = in.readUTF();
                    int[] values = new int[in.readInt()];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = in.readInt();
                    }
                    results.put(name, values);
                }
            }
            return results;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"vector", "scalar"})
    void everyCallInterpretedOrCompiledGivesTheSameBits(String name, @TempDir Path dir)
            throws IOException, InterruptedException {
        Map<String, int[]> compiled = repeat(provider(name), REPEATS);
        assertSameBits(compiled, runChild(name, List.of("-Xint"), 1, dir.resolve("interpreted")), name, "-Xint");
        Map<String, int[]> c1 = runChild(name, List.of("-XX:TieredStopAtLevel=1"), C1_REPEATS.get(name), dir.resolve("c1"));
        assertSameBits(compiled, c1, name, "C1 only");
    }

    private static void assertSameBits(Map<String, int[]> expected, Map<String, int[]> actual, String provider,
                                       String mode) {
        assertEquals(expected.keySet(), actual.keySet(), mode);
        for (String key : expected.keySet()) {
            int differs = firstDifference(expected.get(key), actual.get(key));
            if (differs >= 0) {
                throw new AssertionError(provider + " kernels, " + key + ": a child JVM with " + mode
                        + " differs from this one at element " + differs + ": " + describe(actual.get(key), differs)
                        + " against " + describe(expected.get(key), differs));
            }
        }
    }

    private static Map<String, int[]> runChild(String provider, List<String> options, int repeats, Path output)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules");
        command.add("jdk.incubator.vector");
        command.addAll(options);
        // The child must choose the same species and tile as this JVM.
        for (String property : new String[] {VectorMicroKernel.BITS_PROPERTY, "adjoint.cpu.tileRows"}) {
            String value = System.getProperty(property);
            if (value != null) {
                command.add("-D" + property + "=" + value);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Probe.class.getName());
        command.add(provider);
        command.add(Integer.toString(repeats));
        command.add(output.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String log = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the child JVM did not finish in 180 s: " + command);
        }
        if (process.exitValue() != 0) {
            throw new AssertionError("the child JVM " + options + " failed (exit " + process.exitValue() + "):\n" + log);
        }
        return Probe.read(output);
    }
}
