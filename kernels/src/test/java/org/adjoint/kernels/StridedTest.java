package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class StridedTest {

    private static final float SENTINEL = -777.25f;

    /** An operand layout: where its first element is, and how far each axis steps. */
    private record View(int offset, int[] strides) {
    }

    private record BinaryCase(String name, int[] shape, View lhs, View rhs) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static View view(int offset, int... strides) {
        return new View(offset, strides);
    }

    private static int[] shape(int... dims) {
        return dims;
    }

    static List<BinaryCase> binaryCases() {
        return List.of(
                new BinaryCase("same shape", shape(3, 5), view(0, 5, 1), view(0, 5, 1)),
                new BinaryCase("same shape with offsets", shape(4, 7), view(3, 7, 1), view(6, 7, 1)),
                new BinaryCase("scalar lhs", shape(3, 5), view(2, 0, 0), view(0, 5, 1)),
                new BinaryCase("scalar rhs", shape(3, 5), view(0, 5, 1), view(4, 0, 0)),
                new BinaryCase("row broadcast rhs", shape(4, 6), view(0, 6, 1), view(1, 0, 1)),
                new BinaryCase("row broadcast lhs", shape(4, 6), view(0, 0, 1), view(0, 6, 1)),
                new BinaryCase("column broadcast rhs", shape(4, 6), view(0, 6, 1), view(0, 1, 0)),
                new BinaryCase("column broadcast lhs", shape(4, 6), view(2, 1, 0), view(0, 6, 1)),
                new BinaryCase("rank 0", shape(), view(3), view(1)),
                new BinaryCase("rank 1 strided", shape(9), view(1, 2), view(0, 3)),
                new BinaryCase("rank 3 mixed zero strides", shape(2, 3, 4), view(1, 0, 4, 1), view(0, 3, 1, 0)),
                new BinaryCase("rank 3 transposed lhs, middle broadcast rhs", shape(2, 3, 4), view(0, 1, 2, 6),
                        view(2, 4, 0, 1)),
                new BinaryCase("rank 3 both inner strides zero", shape(3, 2, 5), view(0, 2, 1, 0), view(1, 0, 1, 0)),
                new BinaryCase("empty leading", shape(0, 4), view(0, 4, 1), view(0, 0, 1)),
                new BinaryCase("empty trailing", shape(3, 0), view(0, 0, 1), view(0, 1, 0)),
                new BinaryCase("empty middle", shape(2, 0, 3), view(0, 0, 3, 1), view(0, 3, 3, 1)));
    }

    static Stream<Arguments> binaryArguments() {
        List<Arguments> arguments = new ArrayList<>();
        for (BinaryCase c : binaryCases()) {
            for (Strided.Binary function : Strided.Binary.values()) {
                arguments.add(Arguments.of(c, function));
            }
        }
        return arguments.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("binaryArguments")
    void binaryMatchesExplicitIndexing(BinaryCase c, Strided.Binary function) {
        SplittableRandom random = new SplittableRandom(c.name().hashCode() * 31L + function.ordinal());
        float[] lhs = randomStorage(random, c.lhs(), c.shape());
        float[] rhs = randomStorage(random, c.rhs(), c.shape());
        int outOffset = 2;
        int size = Strided.size(c.shape());
        float[] out = new float[outOffset + size + 3];
        Arrays.fill(out, SENTINEL);
        float[] lhsBefore = lhs.clone();
        float[] rhsBefore = rhs.clone();

        Strided.binary(function, lhs, c.lhs().offset(), c.lhs().strides(), rhs, c.rhs().offset(), c.rhs().strides(),
                out, outOffset, c.shape());

        float[] expected = new float[out.length];
        Arrays.fill(expected, SENTINEL);
        for (int flat = 0; flat < size; flat++) {
            int[] index = unravel(flat, c.shape());
            float a = lhs[position(c.lhs(), index)];
            float b = rhs[position(c.rhs(), index)];
            expected[outOffset + flat] = switch (function) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
            };
        }
        assertArrayEquals(expected, out, c.name() + " " + function);
        assertArrayEquals(lhsBefore, lhs, "lhs modified");
        assertArrayEquals(rhsBefore, rhs, "rhs modified");
    }

    static Stream<Arguments> copyCases() {
        return Stream.of(
                Arguments.of("contiguous", shape(3, 4), view(1, 4, 1)),
                Arguments.of("transpose of 3x4", shape(4, 3), view(0, 1, 4)),
                Arguments.of("transpose with offset", shape(5, 2), view(3, 1, 5)),
                Arguments.of("row broadcast", shape(3, 4), view(0, 0, 1)),
                Arguments.of("column broadcast", shape(3, 4), view(2, 1, 0)),
                Arguments.of("scalar broadcast", shape(2, 3), view(5, 0, 0)),
                Arguments.of("rank 3 permutation", shape(4, 2, 3), view(1, 1, 12, 4)),
                Arguments.of("rank 3 broadcast middle", shape(2, 5, 3), view(0, 3, 0, 1)),
                Arguments.of("reversed", shape(6), view(5, -1)),
                Arguments.of("rank 0", shape(), view(4)),
                Arguments.of("empty leading", shape(0, 3), view(0, 3, 1)),
                Arguments.of("empty trailing", shape(2, 0), view(0, 1, 1)),
                Arguments.of("empty middle", shape(2, 0, 3), view(0, 3, 3, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("copyCases")
    void copyGathersStridedView(String name, int[] shape, View source) {
        SplittableRandom random = new SplittableRandom(name.hashCode());
        float[] src = randomStorage(random, source, shape);
        int outOffset = 1;
        int size = Strided.size(shape);
        float[] out = new float[outOffset + size + 2];
        Arrays.fill(out, SENTINEL);

        Strided.copy(src, source.offset(), source.strides(), out, outOffset, shape);

        float[] expected = new float[out.length];
        Arrays.fill(expected, SENTINEL);
        for (int flat = 0; flat < size; flat++) {
            expected[outOffset + flat] = src[position(source, unravel(flat, shape))];
        }
        assertArrayEquals(expected, out, name);
    }

    static Stream<Arguments> sumToCases() {
        return Stream.of(
                Arguments.of("leading axis", shape(2, 3, 4), view(3, 0, 4, 1), 12),
                Arguments.of("middle axis", shape(2, 3, 4), view(3, 4, 0, 1), 8),
                Arguments.of("trailing axis", shape(2, 3, 4), view(3, 3, 1, 0), 6),
                Arguments.of("leading and trailing", shape(2, 3, 4), view(3, 0, 1, 0), 3),
                Arguments.of("to scalar", shape(2, 3, 4), view(3, 0, 0, 0), 1),
                Arguments.of("rank 1 to scalar", shape(17), view(1, 0), 1),
                Arguments.of("nothing reduced", shape(3, 5), view(2, 5, 1), 15),
                Arguments.of("transposed output", shape(3, 5), view(2, 1, 3), 15),
                Arguments.of("long trailing axis", shape(3, 40), view(4, 1, 0), 3),
                Arguments.of("rank 0", shape(), view(1), 1),
                Arguments.of("empty source", shape(0, 4), view(2, 0, 1), 4),
                Arguments.of("empty source to scalar", shape(3, 0), view(2, 0, 0), 1));
    }

    /** The kernel promises row-major accumulation order, so a float reference in that order matches exactly. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("sumToCases")
    void sumToOverwritesAndSumsInRowMajorOrder(String name, int[] shape, View output, int outSize) {
        SplittableRandom random = new SplittableRandom(name.hashCode());
        int srcOffset = 3;
        int size = Strided.size(shape);
        float[] src = new float[srcOffset + size + 1];
        Arrays.fill(src, Float.NaN);
        for (int i = 0; i < size; i++) {
            src[srcOffset + i] = (float) random.nextDouble(-10, 10);
        }
        float[] out = new float[output.offset() + outSize + 2];
        Arrays.fill(out, 0, output.offset(), SENTINEL);
        Arrays.fill(out, output.offset(), output.offset() + outSize, 1e30f);
        Arrays.fill(out, output.offset() + outSize, out.length, SENTINEL);

        Strided.sumTo(src, srcOffset, shape, out, output.offset(), output.strides(), outSize);

        float[] expected = new float[out.length];
        Arrays.fill(expected, SENTINEL);
        Arrays.fill(expected, output.offset(), output.offset() + outSize, 0f);
        for (int flat = 0; flat < size; flat++) {
            expected[position(output, unravel(flat, shape))] += src[srcOffset + flat];
        }
        assertArrayEquals(expected, out, name);
    }

    @Test
    void sumToScalarAgreesWithDoubleSum() {
        SplittableRandom random = new SplittableRandom(11);
        int[] shape = {7, 13, 5};
        int size = Strided.size(shape);
        float[] src = new float[size];
        double sum = 0.0;
        double absSum = 0.0;
        for (int i = 0; i < size; i++) {
            src[i] = (float) random.nextDouble(-1, 1);
            sum += src[i];
            absSum += Math.abs(src[i]);
        }
        float[] out = {Float.NaN};
        Strided.sumTo(src, 0, shape, out, 0, new int[] {0, 0, 0}, 1);
        assertEquals(sum, out[0], size * 0x1p-24 * absSum + 1e-7);
    }

    /**
     * A sum of a matrix's rows into one row (a bias's gradient) goes to the providers' column
     * kernels, which keep blocks of sums in registers down the rows: the same bits as adding
     * the rows one at a time in row order, for widths around the kernels' blocks (one vector,
     * eight vectors, a 64-float part of the threads' split) and the GPT's shapes, and through
     * leading axes that merge into the rows.
     */
    @Test
    void rowsSummedIntoOneRowHaveTheRowByRowBits() {
        SplittableRandom random = new SplittableRandom(23);
        int[][] shapes = {{1, 1}, {3, 7}, {5, 8}, {2, 9}, {768, 63}, {768, 64}, {17, 65}, {768, 128}, {768, 384},
            {9, 1000}, {12, 64, 384}, {4, 3, 129}};
        for (int[] shape : shapes) {
            int size = Strided.size(shape);
            float[] src = new float[size];
            for (int i = 0; i < size; i++) {
                src[i] = (float) random.nextDouble(-4, 4);
            }
            int n = shape[shape.length - 1];
            float[] expected = new float[n];
            for (int row = 0; row < size / n; row++) {
                for (int i = 0; i < n; i++) {
                    expected[i] += src[row * n + i];
                }
            }
            int[] outStrides = new int[shape.length];
            outStrides[shape.length - 1] = 1;
            for (KernelProvider provider : new KernelProvider[] {ScalarKernels.INSTANCE, VectorKernels.INSTANCE}) {
                float[] out = new float[n];
                Arrays.fill(out, Float.NaN);
                provider.sumTo(src, shape, out, outStrides);
                assertArrayEquals(expected, out, provider.name() + " " + Arrays.toString(shape));
            }
        }
        // The column kernel alone, reading rows further apart than their width, into an offset row.
        float[] src = new float[40 * 300];
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) random.nextDouble(-4, 4);
        }
        for (int n : new int[] {1, 8, 70, 200}) {
            float[] expected = new float[n + 5];
            float[] actual = new float[n + 5];
            Arrays.fill(expected, 0.5f);
            Arrays.fill(actual, 0.5f);
            StridedSum.scalarColumns(src, 3, 300, 40, expected, 5, n);
            VectorReductions.sumColumns(src, 3, 300, 40, actual, 5, n);
            assertArrayEquals(expected, actual, "width " + n);
        }
    }

    @Test
    void sizeOfRankZeroIsOne() {
        assertEquals(1, Strided.size(new int[0]));
        assertEquals(0, Strided.size(new int[] {3, 0, 2}));
        assertEquals(24, Strided.size(new int[] {2, 3, 4}));
    }

    /** Storage covering every position the view reaches, random there and NaN elsewhere. */
    private static float[] randomStorage(SplittableRandom random, View view, int[] shape) {
        int max = view.offset();
        int min = view.offset();
        for (int axis = 0; axis < shape.length; axis++) {
            int reach = (Math.max(shape[axis], 1) - 1) * view.strides()[axis];
            max += Math.max(reach, 0);
            min += Math.min(reach, 0);
        }
        float[] data = new float[Math.max(max, min) + 3];
        Arrays.fill(data, Float.NaN);
        int size = Strided.size(shape);
        for (int flat = 0; flat < size; flat++) {
            // Away from zero so DIV stays finite and exact comparison is meaningful.
            float magnitude = (float) random.nextDouble(0.25, 4);
            data[position(view, unravel(flat, shape))] = random.nextBoolean() ? magnitude : -magnitude;
        }
        return data;
    }

    private static int[] unravel(int flat, int[] shape) {
        int[] index = new int[shape.length];
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            index[axis] = flat % shape[axis];
            flat /= shape[axis];
        }
        return index;
    }

    private static int position(View view, int[] index) {
        int position = view.offset();
        for (int axis = 0; axis < index.length; axis++) {
            position += index[axis] * view.strides()[axis];
        }
        return position;
    }

    /**
     * Sums of squares of many arrays (clipping by the global norm) have the bits of each
     * provider's product of the array by itself and then its sum over every element: lengths
     * with and without vector tails, empty, and the GPT's, taken by the threads in turn.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vector", "scalar"})
    void sumsOfSquaresHaveTheBitsOfTheProductAndTheSum(String provider) {
        KernelProvider kernels = KernelProvider.named(provider);
        int[] lengths = {0, 1, 7, 8, 9, 17, 4099, 49152, 384, 65536, 128, 3};
        SplittableRandom random = new SplittableRandom(17);
        float[][] xs = new float[lengths.length][];
        float[] expected = new float[lengths.length];
        for (int k = 0; k < lengths.length; k++) {
            int n = lengths[k];
            xs[k] = new float[n];
            for (int i = 0; i < n; i++) {
                xs[k][i] = (float) (random.nextGaussian() * 1e-2);
            }
            float[] squares = new float[n];
            kernels.binary(Strided.Binary.MUL, xs[k], new int[] {1}, xs[k], new int[] {1}, squares, new int[] {n});
            float[] sum = {Float.NaN};
            kernels.sumTo(squares, new int[] {n}, sum, new int[] {0});
            expected[k] = sum[0];
        }
        float[] out = new float[lengths.length + 1];
        out[lengths.length] = SENTINEL;
        kernels.sumsOfSquares(xs, lengths.length, out);
        for (int k = 0; k < lengths.length; k++) {
            assertEquals(Float.floatToRawIntBits(expected[k]), Float.floatToRawIntBits(out[k]),
                    provider + ", array " + k + " of " + lengths[k] + ": " + expected[k] + " against " + out[k]);
        }
        assertEquals(SENTINEL, out[lengths.length], "beyond count");
    }
}
