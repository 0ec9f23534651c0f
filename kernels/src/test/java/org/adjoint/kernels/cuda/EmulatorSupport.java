package org.adjoint.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the {@code Emulated*Test} suites share: the {@link HostEmulator}, compiled once per test
 * run and deleted after it, the launch shapes, and the comparisons and inputs they use.
 *
 * <p>Each suite runs device kernels on the CPU against the Java kernels they mirror.
 * Arithmetic that the CPU does in float without transcendentals (sums, products, strided
 * gathers, masks, derivatives) must agree bit for bit; results of {@code exp}, {@code log},
 * {@code tanh} and {@code pow} within a few float ulps, since the emulator uses the C
 * library's float functions where Java rounds a double result. Every kernel runs under
 * several launch shapes, from one thread in total to more threads than work, because the
 * kernels must be right for any grid.
 *
 * <p>A suite registers one instance ({@code @RegisterExtension static final}); the instance
 * skips the suite where {@code g++} is missing, and launches kernels once it has started.
 */
final class EmulatorSupport implements BeforeAllCallback {

    /** {grid, block}: a single thread, odd small blocks, and the production block size. */
    static final int[][] LAUNCHES = {{1, 1}, {3, 32}, {2, 256}};

    /** Relative slack for results of transcendental functions. */
    static final double RELATIVE = 1e-6;

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(EmulatorSupport.class);

    private HostEmulator emulator;

    /** The compiled program and its folder, which the test run's store deletes when the run ends. */
    private record Compiled(Path directory, HostEmulator emulator) implements AutoCloseable {

        static Compiled create() {
            try {
                Path directory = Files.createTempDirectory("adjoint-emulator");
                return new Compiled(directory, HostEmulator.compile(directory));
            } catch (IOException e) {
                throw new UncheckedIOException("could not compile the kernel emulator", e);
            }
        }

        @Override
        public void close() throws IOException {
            try (Stream<Path> files = Files.walk(directory)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(file);
                }
            }
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        RequiredTool.assumeOnPath("g++", "the kernel emulator");
        // One compile for every suite of the run: g++ takes seconds, the store outlives each class.
        emulator = context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(Compiled.class, key -> Compiled.create(), Compiled.class).emulator();
    }

    /**
     * {@link HostEmulator#launch}.
     *
     * @param kernel    the entry point
     * @param grid      blocks
     * @param block     threads per block
     * @param arguments the kernel's arguments
     * @return every buffer after the launch
     * @throws IOException when the program cannot be run
     */
    List<float[]> launch(String kernel, int grid, int block, Object... arguments) throws IOException {
        return emulator.launch(kernel, grid, block, arguments);
    }

    /**
     * {@link HostEmulator#stridedLayout}.
     *
     * @return size, alignment, then the offsets of rank, shape, a and b
     * @throws IOException when the program cannot be run
     */
    long[] stridedLayout() throws IOException {
        return emulator.stridedLayout();
    }

    /**
     * Launches {@code kernel} under each of {@link #LAUNCHES} and checks one of the buffers it
     * gives back bit for bit.
     *
     * @param expected  the buffer's expected contents
     * @param buffer    which buffer, counted among the buffer arguments from 0
     * @param what      the case, for the message
     * @param kernel    the entry point
     * @param arguments the kernel's arguments, as {@link HostEmulator#launch} takes them
     * @throws IOException when the program cannot be run
     */
    void assertBitsOnEveryLaunch(float[] expected, int buffer, String what, String kernel, Object... arguments)
            throws IOException {
        for (int[] launch : LAUNCHES) {
            assertBits(expected, launch(kernel, launch[0], launch[1], arguments).get(buffer),
                    what + " launch " + Arrays.toString(launch));
        }
    }

    /** Equal bits where {@code exact}, else {@link #assertClose} with {@link #RELATIVE}. */
    static void check(boolean exact, float[] expected, float[] actual, String what) {
        if (exact) {
            assertBits(expected, actual, what);
        } else {
            assertClose(expected, actual, RELATIVE, what);
        }
    }

    /** Equal bit patterns, except that any NaN equals any NaN. */
    static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int k = 0; k < expected.length; k++) {
            int index = k;
            assertEquals(Float.floatToIntBits(expected[k]), Float.floatToIntBits(actual[k]),
                    () -> what + ": element " + index + " is " + actual[index] + ", expected " + expected[index]);
        }
    }

    /** NaN where NaN is expected, equal infinities, and otherwise a relative error of at most {@code relative}. */
    static void assertClose(float[] expected, float[] actual, double relative, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int k = 0; k < expected.length; k++) {
            float e = expected[k];
            float a = actual[k];
            boolean close = Float.isNaN(e) ? Float.isNaN(a)
                    : e == a || Math.abs((double) e - a) <= relative * Math.max(Math.abs(e), Math.abs(a)) + 1e-37;
            int index = k;
            assertTrue(close, () -> what + ": element " + index + " is " + a + ", expected " + e);
        }
    }

    /** A {@code struct Strided} argument over {@code shape} with the operands' strides {@code a} and {@code b}. */
    static HostEmulator.Space space(int[] shape, int[] a, int[] b) {
        return new HostEmulator.Space(longs(shape), longs(a), longs(b));
    }

    private static long[] longs(int[] values) {
        return Arrays.stream(values).asLongStream().toArray();
    }

    static int[] ints(int... values) {
        return values;
    }

    /** Elements an operand needs: one past its largest offset over the shape (at least 1). */
    static int extent(int[] shape, int[] strides) {
        int last = 0;
        for (int axis = 0; axis < shape.length; axis++) {
            last += Math.max(shape[axis] - 1, 0) * strides[axis];
        }
        return last + 1;
    }

    /** {@code n} values uniform in {@code [low, high)}, the same for the same seed. */
    static float[] random(int n, long seed, float low, float high) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int k = 0; k < n; k++) {
            values[k] = low + (high - low) * (float) random.nextDouble();
        }
        return values;
    }

    /**
     * {@link #random} scaled by 10<sup>-3</sup> to 10<sup>3</sup> in turn: magnitudes spread over
     * many binades, so that another order of addition would show in a sum.
     */
    static float[] spreadOverBinades(int n, long seed) {
        float[] values = random(n, seed, -1, 1);
        for (int k = 0; k < n; k++) {
            values[k] = (float) (values[k] * Math.pow(10, k % 7 - 3));
        }
        return values;
    }
}
