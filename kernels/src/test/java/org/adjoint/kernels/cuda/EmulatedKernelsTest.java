package org.adjoint.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.adjoint.kernels.AxisReductions;
import org.adjoint.kernels.ElementWise;
import org.adjoint.kernels.Fused;
import org.adjoint.kernels.Im2col;
import org.adjoint.kernels.Indexing;
import org.adjoint.kernels.Strided;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device kernels, run on the CPU by {@link HostEmulator}, against the Java kernels they
 * mirror. Arithmetic that the CPU does in float without transcendentals (sums, products,
 * strided gathers, masks, derivatives) must agree bit for bit; results of {@code exp},
 * {@code log}, {@code tanh} and {@code pow} within a few float ulps, since the emulator
 * uses the C library's float functions where Java rounds a double result.
 *
 * <p>Every kernel runs under several launch shapes, from one thread in total to more
 * threads than work, because the kernels must be right for any grid.
 */
class EmulatedKernelsTest {

    /** {grid, block}: a single thread, odd small blocks, and the production block size. */
    private static final int[][] LAUNCHES = {{1, 1}, {3, 32}, {2, 256}};
    private static final double RELATIVE = 1e-6;
    private static final float[] SPECIAL = {
        0f, -0f, 1f, -1f, 0.5f, -0.5f, 2f, -2f, 3f, -3f, Float.NaN, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, 1e-30f, -1e-30f, 88f, 89f, -88f, -104f, 100f, -100f, Float.MIN_VALUE,
        Float.MAX_VALUE, -Float.MAX_VALUE, 1e-3f, 7.25f
    };

    @TempDir
    static Path directory;
    private static HostEmulator emulator;

    @BeforeAll
    static void compileEmulator() throws IOException {
        RequiredTool.assumeOnPath("g++", "the kernel emulator");
        emulator = HostEmulator.compile(directory);
    }

    @Test
    void stridedStructHasTheDocumentedLayout() throws IOException {
        assertArrayEquals(new long[] {CudaKernelSource.STRIDED_BYTES, 8, 0, CudaKernelSource.STRIDED_SHAPE_OFFSET,
            CudaKernelSource.STRIDED_A_OFFSET, CudaKernelSource.STRIDED_B_OFFSET}, emulator.stridedLayout());
    }

    @Test
    void fillAndAxpy() throws IOException {
        for (int n : new int[] {0, 1, 37, 600}) {
            float[] x = random(n, 1, -4, 4);
            float[] y = random(n, 2, -4, 4);
            float[] expected = y.clone();
            ElementWise.axpy(-0.37f, x, expected, n);
            for (int[] launch : LAUNCHES) {
                List<float[]> filled = emulator.launch("fill", launch[0], launch[1], y, -2.5f, (long) n);
                float[] constant = new float[n];
                Arrays.fill(constant, -2.5f);
                assertBits(constant, filled.get(0), "fill n=" + n);
                List<float[]> result = emulator.launch("axpy", launch[0], launch[1], -0.37f, x, y, (long) n);
                assertBits(expected, result.get(1), "axpy n=" + n);
            }
        }
    }

    @Test
    void unaryMatchesElementWise() throws IOException {
        float[] x = concat(SPECIAL, random(40, 3, -10, 10));
        float[] exponents = {2f, 1f, -1f, 0.5f, 3f, -2f, -2.5f, 0f, -0f, 1.5f, Float.NaN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY};
        for (ElementWise.Unary op : ElementWise.Unary.values()) {
            float[] parameters = op == ElementWise.Unary.POW ? exponents : new float[] {0f};
            for (float p : parameters) {
                float[] expected = new float[x.length];
                ElementWise.apply(op, p, x, 0, expected, 0, x.length);
                boolean exact = switch (op) {
                    case NEG, SQRT, RELU, STEP -> true;
                    case POW -> p == 2f || p == 1f || p == -1f;
                    default -> false;
                };
                String what = "unary " + op + (op == ElementWise.Unary.POW ? " p=" + p : "");
                for (int[] launch : LAUNCHES) {
                    float[] out = new float[x.length];
                    List<float[]> result = emulator.launch("unary", launch[0], launch[1], op.ordinal(), p, x, out,
                            (long) x.length);
                    check(exact, expected, result.get(1), what);
                }
                List<float[]> inPlace = emulator.launch("unary", 2, 32, op.ordinal(), p, x, new HostEmulator.Alias(0),
                        (long) x.length);
                check(exact, expected, inPlace.get(0), what + " in place");
            }
        }
    }

    /** A shape with each operand's strides over it (0 broadcasts). */
    private record Layout(String name, int[] shape, int[] a, int[] b) {
    }

    private static final List<Layout> LAYOUTS = List.of(
            new Layout("same shape", ints(5, 7), ints(7, 1), ints(7, 1)),
            new Layout("row broadcast", ints(5, 7), ints(7, 1), ints(0, 1)),
            new Layout("column broadcast", ints(5, 7), ints(7, 1), ints(1, 0)),
            new Layout("scalar lhs", ints(5, 7), ints(0, 0), ints(7, 1)),
            new Layout("transposed rhs", ints(5, 7), ints(7, 1), ints(1, 5)),
            new Layout("rank 0", ints(), ints(), ints()),
            new Layout("unit axes", ints(3, 1, 4), ints(4, 4, 1), ints(0, 9, 1)),
            new Layout("rank 4 mixed", ints(2, 3, 4, 5), ints(60, 20, 5, 1), ints(0, 5, 0, 1)),
            new Layout("rank 4 permuted", ints(2, 3, 4, 5), ints(1, 2, 6, 24), ints(60, 1, 15, 3)),
            new Layout("rank 8", ints(2, 2, 2, 2, 2, 2, 2, 2), ints(128, 64, 32, 16, 8, 4, 2, 1),
                    ints(1, 2, 4, 8, 16, 32, 64, 128)),
            new Layout("empty", ints(0, 3), ints(3, 1), ints(0, 1)),
            new Layout("long odd", ints(1031), ints(1), ints(2)));

    @Test
    void binaryMatchesStrided() throws IOException {
        for (Layout layout : LAYOUTS) {
            float[] lhs = random(extent(layout.shape(), layout.a()), 4, -3, 3);
            float[] rhs = random(extent(layout.shape(), layout.b()), 5, -3, 3);
            rhs[0] = 0f; // a division by zero somewhere
            int n = Strided.size(layout.shape());
            for (Strided.Binary op : Strided.Binary.values()) {
                float[] expected = new float[n];
                Strided.binary(op, lhs, 0, layout.a(), rhs, 0, layout.b(), expected, 0, layout.shape());
                for (int[] launch : LAUNCHES) {
                    List<float[]> result = emulator.launch("binary", launch[0], launch[1], op.ordinal(), lhs, rhs,
                            new float[n], space(layout.shape(), layout.a(), layout.b()), (long) n);
                    assertBits(expected, result.get(2), "binary " + op + " " + layout.name());
                }
            }
        }
    }

    @Test
    void copyStridedMatchesStrided() throws IOException {
        for (Layout layout : LAYOUTS) {
            for (int[] strides : new int[][] {layout.a(), layout.b()}) {
                float[] src = random(extent(layout.shape(), strides), 6, -3, 3);
                int n = Strided.size(layout.shape());
                float[] expected = new float[n];
                Strided.copy(src, 0, strides, expected, 0, layout.shape());
                for (int[] launch : LAUNCHES) {
                    List<float[]> result = emulator.launch("copy_strided", launch[0], launch[1], src, new float[n],
                            space(layout.shape(), strides, new int[strides.length]), (long) n);
                    assertBits(expected, result.get(1), "copy_strided " + layout.name() + " " + Arrays.toString(strides));
                }
            }
        }
    }

    /** Whether strides over a shape reach each position at most once (an output view may use them). */
    private static boolean injective(int[] shape, int[] strides) {
        int n = Strided.size(shape);
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i < n; i++) {
            long at = 0;
            int rest = i;
            for (int axis = shape.length - 1; axis >= 0; axis--) {
                at += (long) (rest % shape[axis]) * strides[axis];
                rest /= shape[axis];
            }
            if (!seen.add(at)) {
                return false;
            }
        }
        return true;
    }

    @Test
    void copyStridedToMatchesStrided() throws IOException {
        int checked = 0;
        for (Layout layout : LAYOUTS) {
            if (!injective(layout.shape(), layout.b())) {
                continue;
            }
            float[] src = random(extent(layout.shape(), layout.a()), 7, -3, 3);
            float[] before = random(extent(layout.shape(), layout.b()), 8, -3, 3);
            float[] expected = before.clone();
            Strided.copy(src, 0, layout.a(), expected, 0, layout.b(), layout.shape());
            for (int[] launch : LAUNCHES) {
                List<float[]> result = emulator.launch("copy_strided_to", launch[0], launch[1], src, before.clone(),
                        space(layout.shape(), layout.a(), layout.b()), (long) Strided.size(layout.shape()));
                assertBits(expected, result.get(1), "copy_strided_to " + layout.name());
            }
            checked++;
        }
        assertTrue(checked >= 6, checked + " layouts");
    }

    @Test
    void maskedFillMatchesStrided() throws IOException {
        for (Layout layout : LAYOUTS) {
            float[] x = random(extent(layout.shape(), layout.a()), 9, -3, 3);
            float[] mask = random(extent(layout.shape(), layout.b()), 10, -1, 1);
            for (int i = 0; i < mask.length; i += 2) {
                mask[i] = 0f;
            }
            if (x.length > 2) {
                x[1] = Float.NaN;
                x[2] = Float.NEGATIVE_INFINITY;
            }
            if (mask.length > 3) {
                mask[3] = Float.NaN;
            }
            int n = Strided.size(layout.shape());
            float[] expected = new float[n];
            Strided.maskedFill(x, 0, layout.a(), mask, 0, layout.b(), -1.5f, expected, 0, layout.shape());
            for (int[] launch : LAUNCHES) {
                List<float[]> result = emulator.launch("masked_fill", launch[0], launch[1], x, mask, -1.5f, new float[n],
                        space(layout.shape(), layout.a(), layout.b()), (long) n);
                assertBits(expected, result.get(2), "masked_fill " + layout.name());
            }
        }
    }

    /** A source shape and the output stride of each of its axes (0 where summed away). */
    private record Reduction(int[] shape, int[] outStrides) {
        @Override
        public String toString() {
            return Arrays.toString(shape) + " out strides " + Arrays.toString(outStrides);
        }
    }

    @Test
    void sumToAddsInTheCpuOrder() throws IOException {
        List<Reduction> reductions = List.of(
                new Reduction(ints(4, 5), ints(0, 1)),
                new Reduction(ints(4, 5), ints(1, 0)),
                new Reduction(ints(3, 4, 5), ints(0, 1, 0)),
                new Reduction(ints(2, 3, 4, 5), ints(4, 0, 1, 0)),
                new Reduction(ints(2, 3, 4), ints(0, 0, 1)),
                new Reduction(ints(3, 5, 4, 2), ints(2, 0, 0, 1)),
                new Reduction(ints(6, 7), ints(0, 0)),
                new Reduction(ints(6, 7), ints(7, 1)),
                new Reduction(ints(3, 4), ints(1, 3)),
                new Reduction(ints(3, 1, 4), ints(0, 0, 1)),
                new Reduction(ints(3, 1, 4), ints(4, 4, 1)),
                new Reduction(ints(2, 0, 3), ints(3, 0, 1)),
                new Reduction(ints(0, 3), ints(0, 1)),
                new Reduction(ints(), ints()),
                new Reduction(ints(1, 1), ints(0, 0)),
                new Reduction(ints(300, 3), ints(0, 1)),
                new Reduction(ints(2, 2, 2, 2, 2, 2, 2, 3), ints(0, 3, 0, 0, 0, 0, 0, 1)));
        for (Reduction reduction : reductions) {
            int[] shape = reduction.shape();
            int outCount = 1;
            for (int axis = 0; axis < shape.length; axis++) {
                outCount *= reduction.outStrides()[axis] != 0 || shape[axis] == 1 ? shape[axis] : 1;
            }
            // Magnitudes spread over many binades, so that another order of addition would show.
            float[] src = random(Strided.size(shape), 7, -1, 1);
            for (int k = 0; k < src.length; k++) {
                src[k] = (float) (src[k] * Math.pow(10, k % 7 - 3));
            }
            if (src.length == 1) {
                src[0] = -0f;
            }
            float[] expected = new float[outCount];
            Strided.sumTo(src, 0, shape, expected, 0, reduction.outStrides(), outCount);
            float[] garbage = new float[outCount];
            Arrays.fill(garbage, 123f);
            for (int[] launch : LAUNCHES) {
                List<float[]> result = emulator.launch("sum_to", launch[0], launch[1], src, garbage,
                        space(shape, reduction.outStrides(), new int[shape.length]), (long) outCount);
                assertBits(expected, result.get(1), "sum_to " + reduction);
            }
        }
    }

    @Test
    void sumToPartsDealsEachOutputsPositionsToItsParts() throws IOException {
        List<Reduction> reductions = List.of(
                new Reduction(ints(300, 3), ints(0, 1)),
                new Reduction(ints(3, 300), ints(1, 0)),
                new Reduction(ints(500), ints(0)),
                new Reduction(ints(4, 5, 6), ints(0, 1, 0)),
                new Reduction(ints(2, 3, 4, 5), ints(4, 0, 1, 0)),
                new Reduction(ints(3, 5, 4, 2), ints(2, 0, 0, 1)),
                new Reduction(ints(3, 1, 40), ints(0, 0, 1)),
                new Reduction(ints(7, 1, 9), ints(0, 9, 0)));
        for (Reduction reduction : reductions) {
            int[] shape = reduction.shape();
            int[] outStrides = reduction.outStrides();
            float[] src = random(Strided.size(shape), 9, -1, 1);
            for (int k = 0; k < src.length; k++) {
                src[k] = (float) (src[k] * Math.pow(10, k % 7 - 3));
            }
            int outCount = 1;
            for (int axis = 0; axis < shape.length; axis++) {
                outCount *= outStrides[axis] != 0 ? shape[axis] : 1;
            }
            for (int parts : new int[] {1, 2, 3, 7}) {
                for (int partsInner = 0; partsInner <= 1; partsInner++) {
                    float[] expected = new float[outCount * parts];
                    Strided.sumToParts(src, shape, outStrides, parts, partsInner == 1, expected);
                    float[] garbage = new float[outCount * parts];
                    Arrays.fill(garbage, 123f);
                    for (int[] launch : LAUNCHES) {
                        List<float[]> result = emulator.launch("sum_to_parts", launch[0], launch[1], src, garbage,
                                space(shape, outStrides, new int[shape.length]), (long) outCount, (long) parts,
                                partsInner);
                        assertBits(expected, result.get(1), "sum_to_parts " + reduction + " parts " + parts
                                + (partsInner == 1 ? " inner" : " outer"));
                    }
                }
            }
        }
    }

    @Test
    void maxAxisMarksTheFirstMaximumAndLetsNanWin() throws IOException {
        int[][] shapes = {{1, 1, 1}, {3, 5, 4}, {2, 7, 1}, {4, 1, 3}, {1, 10, 1}, {5, 3, 70}};
        for (int[] s : shapes) {
            int outer = s[0];
            int length = s[1];
            int inner = s[2];
            float[] x = new float[outer * length * inner];
            SplittableRandom random = new SplittableRandom(8);
            float[] choices = {-1f, 0f, -0f, 2f, 2f, Float.NEGATIVE_INFINITY, Float.NaN, 5f};
            for (int k = 0; k < x.length; k++) {
                // Few distinct values, so that ties and NaNs are common.
                x[k] = choices[random.nextInt(k % 5 == 0 ? choices.length : choices.length - 3)];
            }
            float[] values = new float[outer * inner];
            float[] mask = new float[x.length];
            AxisReductions.max(x, outer, length, inner, values, mask);
            float[] staleMask = new float[x.length];
            Arrays.fill(staleMask, 5f);
            String what = "max_axis " + Arrays.toString(s);
            for (int[] launch : LAUNCHES) {
                List<float[]> result = emulator.launch("max_axis", launch[0], launch[1], x, new float[values.length],
                        staleMask, outer, length, inner);
                assertBits(values, result.get(1), what + " values");
                assertBits(mask, result.get(2), what + " mask");
                List<float[]> noMask = emulator.launch("max_axis", launch[0], launch[1], x, new float[values.length],
                        HostEmulator.NULL, outer, length, inner);
                assertBits(values, noMask.get(1), what + " values without a mask");
            }
        }
    }

    @Test
    void softmaxMatchesOnLanesAndOnRowsSharedByABlock() throws IOException {
        int[][] shapes = {{3, 5, 4}, {2, 7, 1}, {1, 1, 1}, {4, 127, 1}, {3, 128, 1}, {2, 300, 1}, {1, 1000, 1},
            {2, 200, 3}};
        for (int[] s : shapes) {
            int outer = s[0];
            int length = s[1];
            int inner = s[2];
            float[] x = random(outer * length * inner, 9, -6, 6);
            if (outer >= 2 && length >= 2) {
                // Lane 0: a NaN; lane 1 (the second outer slice, first inner position): all -inf.
                x[inner] = Float.NaN;
                for (int l = 0; l < length; l++) {
                    x[length * inner + l * inner] = Float.NEGATIVE_INFINITY;
                }
            }
            if (outer >= 3) {
                x[2 * length * inner] = 1e30f; // one lane dominated by a huge value
            }
            for (boolean log : new boolean[] {false, true}) {
                float[] expected = new float[x.length];
                AxisReductions.softmax(x, outer, length, inner, log, expected);
                String what = (log ? "log_softmax " : "softmax ") + Arrays.toString(s);
                for (int[] launch : LAUNCHES) {
                    List<float[]> result = emulator.launch("softmax", launch[0], launch[1], x, new float[x.length],
                            outer, length, inner, log ? 1 : 0);
                    assertClose(expected, result.get(1), 1e-6, what + " launch " + Arrays.toString(launch));
                }
                List<float[]> inPlace = emulator.launch("softmax", 2, 256, x, new HostEmulator.Alias(0), outer, length,
                        inner, log ? 1 : 0);
                assertClose(expected, inPlace.get(0), 1e-6, what + " in place");
            }
        }
    }

    /** {outer, length, inner, count}: rows, lanes, repeated indices, empty axes, more lanes than a block. */
    private static final int[][] INDEXED = {
        {1, 5, 1, 7}, {6, 3, 1, 4}, {3, 5, 4, 6}, {2, 4, 3, 0}, {4, 1, 2, 3}, {0, 3, 2, 4}, {2, 3, 0, 5},
        {2, 6, 150, 9}, {300, 2, 1, 3}};

    @Test
    void gatherMatchesIndexing() throws IOException {
        for (int[] s : INDEXED) {
            int outer = s[0];
            int length = s[1];
            int inner = s[2];
            int count = s[3];
            float[] src = random(outer * length * inner, 19, -3, 3);
            float[] indices = indices(outer * count * inner, length, 20);
            float[] expected = new float[indices.length];
            Indexing.gather(src, outer, length, inner, indices, count, expected);
            float[] stale = new float[indices.length];
            Arrays.fill(stale, 123f);
            for (int[] launch : LAUNCHES) {
                List<float[]> result = emulator.launch("gather", launch[0], launch[1], src, outer, length, inner,
                        indices, count, stale);
                assertBits(expected, result.get(2), "gather " + Arrays.toString(s));
            }
        }
    }

    @Test
    void gatherGivesNanForAnIndexTheCpuRefuses() throws IOException {
        float[] src = {10f, 11f, 12f};
        float[] indices = {-1f, 1.5f, Float.NaN, 3f, 2f, -0f, 3e9f, Float.NEGATIVE_INFINITY};
        List<float[]> result = emulator.launch("gather", 1, 32, src, 1, 3, 1, indices, indices.length,
                new float[indices.length]);
        assertBits(new float[] {Float.NaN, Float.NaN, Float.NaN, Float.NaN, 12f, 10f, Float.NaN, Float.NaN},
                result.get(2), "gather with indices outside [0, 3) or not whole");
    }

    @Test
    void scatterAddAddsInTheCpuOrder() throws IOException {
        for (int[] s : INDEXED) {
            int outer = s[0];
            int length = s[1];
            int inner = s[2];
            int count = s[3];
            // Magnitudes spread over many binades, so that another order of addition would show.
            float[] values = random(outer * count * inner, 21, -1, 1);
            for (int k = 0; k < values.length; k++) {
                values[k] = (float) (values[k] * Math.pow(10, k % 7 - 3));
            }
            float[] indices = indices(values.length, length, 22);
            float[] out = random(outer * length * inner, 23, -1, 1);
            if (out.length > 0) {
                out[0] = -0f;
            }
            float[] expected = out.clone();
            Indexing.scatterAdd(values, outer, count, inner, indices, expected, length);
            for (int[] launch : LAUNCHES) {
                List<float[]> result = emulator.launch("scatter_add", launch[0], launch[1], values, outer, count, inner,
                        indices, out, length);
                assertBits(expected, result.get(2), "scatter_add " + Arrays.toString(s));
            }
        }
    }

    @Test
    void scatterAddSumsRepeatedIndicesInOrderOfTheirPosition() throws IOException {
        // Added in order, 1 is lost next to 1e8 and the sum is 0; any other order gives 1 or 2.
        float[] values = {1f, 1e8f, -1e8f, 7f};
        float[] indices = {0f, 0f, 0f, 1f};
        float[] expected = {0f, 7f};
        float[] cpu = new float[2];
        Indexing.scatterAdd(values, 1, 4, 1, indices, cpu, 2);
        assertBits(expected, cpu, "Indexing.scatterAdd");
        for (int[] launch : LAUNCHES) {
            List<float[]> result = emulator.launch("scatter_add", launch[0], launch[1], values, 1, 4, 1, indices,
                    new float[2], 2);
            assertBits(expected, result.get(2), "scatter_add of 1, 1e8, -1e8 into one element");
        }
    }

    @Test
    void scatterAddMakesALaneNanWhenOneOfItsIndicesIsRefused() throws IOException {
        // Two lanes (inner 2), three entries each; lane 1 has the index 4 in a length of 4.
        float[] values = {1f, 10f, 2f, 20f, 3f, 30f};
        float[] indices = {0f, 1f, 2f, 4f, 0f, 3f};
        float[] out = new float[8];
        float[] expected = {4f, Float.NaN, 0f, Float.NaN, 2f, Float.NaN, 0f, Float.NaN};
        List<float[]> result = emulator.launch("scatter_add", 1, 32, values, 1, 3, 2, indices, out, 4);
        assertBits(expected, result.get(2), "scatter_add with an index outside [0, 4) in lane 1");
        for (float refused : new float[] {-1f, 0.5f, Float.NaN}) {
            List<float[]> single = emulator.launch("scatter_add", 1, 32, new float[] {1f}, 1, 1, 1,
                    new float[] {refused}, new float[] {5f, 6f}, 2);
            assertBits(new float[] {Float.NaN, Float.NaN}, single.get(2), "scatter_add with the index " + refused);
        }
    }

    /**
     * {channels, height, width, kh, kw, stride, padding, dilation, images}: padding, strides,
     * dilation, odd sizes, windows wider than the image, all padding, no images, more work than a block.
     */
    private static final int[][] WINDOWS = {
        {1, 4, 4, 3, 3, 1, 0, 1, 1}, {3, 7, 6, 3, 3, 1, 1, 1, 2}, {2, 9, 8, 3, 2, 2, 1, 1, 3}, {2, 7, 9, 3, 3, 3, 2, 1, 2},
        {3, 11, 10, 3, 3, 1, 2, 2, 1}, {2, 8, 7, 2, 3, 2, 3, 3, 2}, {1, 2, 2, 5, 5, 1, 2, 1, 1}, {2, 0, 3, 1, 2, 1, 1, 1, 2},
        {2, 5, 5, 3, 3, 1, 1, 1, 0}, {4, 12, 13, 3, 3, 1, 1, 1, 2}};

    @Test
    void im2colMatchesIm2col() throws IOException {
        for (int[] g : WINDOWS) {
            int outH = (g[1] + 2 * g[6] - g[7] * (g[3] - 1) - 1) / g[5] + 1;
            int outW = (g[2] + 2 * g[6] - g[7] * (g[4] - 1) - 1) / g[5] + 1;
            float[] in = random(g[8] * g[0] * g[1] * g[2], 24, -3, 3);
            float[] stale = new float[g[8] * g[0] * g[3] * g[4] * outH * outW];
            Arrays.fill(stale, 123f);
            for (float pad : new float[] {0f, Float.NEGATIVE_INFINITY}) {
                float[] expected = new float[stale.length];
                Im2col.im2col(in, 0, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], pad, expected, 0);
                for (int[] launch : LAUNCHES) {
                    List<float[]> result = emulator.launch("im2col", launch[0], launch[1], in, g[0], g[1], g[2], g[3],
                            g[4], g[5], g[6], g[7], g[8], pad, stale);
                    assertBits(expected, result.get(1), "im2col " + Arrays.toString(g) + " pad " + pad);
                }
            }
        }
    }

    @Test
    void col2imSumsInTheCpuOrder() throws IOException {
        for (int[] g : WINDOWS) {
            int outH = (g[1] + 2 * g[6] - g[7] * (g[3] - 1) - 1) / g[5] + 1;
            int outW = (g[2] + 2 * g[6] - g[7] * (g[4] - 1) - 1) / g[5] + 1;
            // Magnitudes spread over many binades, so that another order of addition would show.
            float[] cols = random(g[8] * g[0] * g[3] * g[4] * outH * outW, 25, -1, 1);
            for (int k = 0; k < cols.length; k++) {
                cols[k] = (float) (cols[k] * Math.pow(10, k % 7 - 3));
            }
            float[] stale = random(g[8] * g[0] * g[1] * g[2], 26, -1, 1);
            float[] expected = stale.clone();
            Im2col.col2im(cols, 0, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], expected, 0);
            for (int[] launch : LAUNCHES) {
                List<float[]> result = emulator.launch("col2im", launch[0], launch[1], cols, g[0], g[1], g[2], g[3], g[4],
                        g[5], g[6], g[7], g[8], stale);
                assertBits(expected, result.get(1), "col2im " + Arrays.toString(g));
            }
        }
        // A 1x1x5 image under a 1x3 window: element 2 gets 1, 1e8, -1e8 in that order, which sums to 0.
        List<float[]> result = emulator.launch("col2im", 1, 32, new float[] {9f, 9f, 1f, 9f, 1e8f, 9f, -1e8f, 9f, 9f},
                1, 1, 5, 1, 3, 1, 0, 1, 1, new float[5]);
        assertBits(new float[] {9f, 18f, 0f, 18f, 9f}, result.get(1), "col2im of 1, 1e8, -1e8 into one element");
    }

    @Test
    void biasActivationAndItsGradientMatchFused() throws IOException {
        int[][] sizes = {{3, 5}, {1, 1}, {4, 33}, {0, 5}};
        for (int[] size : sizes) {
            int rows = size[0];
            int cols = size[1];
            float[] y = random(rows * cols, 10, -5, 5);
            if (y.length > 0) {
                y[0] = -0f;
            }
            float[] bias = random(cols, 11, -1, 1);
            for (Fused.Activation act : Fused.Activation.values()) {
                boolean exact = act == Fused.Activation.IDENTITY || act == Fused.Activation.RELU;
                for (boolean withBias : new boolean[] {true, false}) {
                    float[] expected = y.clone();
                    Fused.biasActivation(act, expected, withBias ? bias : null, rows, cols);
                    String what = "bias_activation " + act + " " + rows + "x" + cols + (withBias ? "" : " no bias");
                    for (int[] launch : LAUNCHES) {
                        List<float[]> result = emulator.launch("bias_activation", launch[0], launch[1], act.ordinal(),
                                y, withBias ? bias : HostEmulator.NULL, rows, cols);
                        check(exact, expected, result.get(0), what);
                    }
                }
                float[] outputs = y.clone();
                Fused.biasActivation(act, outputs, bias, rows, cols);
                float[] cotangent = random(outputs.length, 12, -2, 2);
                float[] expected = new float[outputs.length];
                Fused.activationGrad(act, outputs, cotangent, expected, outputs.length);
                for (int[] launch : LAUNCHES) {
                    List<float[]> result = emulator.launch("activation_grad", launch[0], launch[1], act.ordinal(),
                            outputs, cotangent, new float[outputs.length], (long) outputs.length);
                    assertBits(expected, result.get(2), "activation_grad " + act);
                }
                List<float[]> inPlace = emulator.launch("activation_grad", 1, 32, act.ordinal(), outputs, cotangent,
                        new HostEmulator.Alias(1), (long) outputs.length);
                assertBits(expected, inPlace.get(1), "activation_grad " + act + " into the cotangent");
            }
        }
    }

    @Test
    void nllSumsDeterministicallyInOneBlock() throws IOException {
        int cols = 10;
        int[][] launches = {{1, 1}, {1, 32}, {1, 100}, {1, 256}, {2, 256}};
        for (int rows : new int[] {0, 1, 7, 300, 1000}) {
            float[] logp = random(rows * cols, 13, -8, 0);
            float[] labels = labels(rows, cols, 14);
            float expected = Fused.meanNegativeLogLikelihood(logp, labels, rows, cols);
            for (int[] launch : launches) {
                List<float[]> result = emulator.launch("nll", launch[0], launch[1], logp, labels, rows, cols,
                        new float[1]);
                assertClose(new float[] {expected}, result.get(2), RELATIVE,
                        "nll rows=" + rows + " launch " + Arrays.toString(launch));
            }
        }
        float[] badLabel = {3f, 10f};
        List<float[]> result = emulator.launch("nll", 1, 256, random(2 * cols, 15, -8, 0), badLabel, 2, cols,
                new float[1]);
        assertEquals(Float.NaN, result.get(2)[0], "a label outside [0, cols) gives NaN, not a stray read");
    }

    @Test
    void crossEntropyGradMatchesFused() throws IOException {
        int cols = 10;
        for (int rows : new int[] {0, 1, 7, 130}) {
            float[] logp = random(rows * cols, 16, -8, 0);
            float[] labels = labels(rows, cols, 17);
            float scale = 0.37f / Math.max(rows, 1);
            float[] expected = new float[rows * cols];
            Fused.crossEntropyGrad(logp, labels, rows, cols, scale, expected);
            for (int[] launch : LAUNCHES) {
                List<float[]> result = emulator.launch("cross_entropy_grad", launch[0], launch[1], logp, labels, rows,
                        cols, scale, new float[rows * cols]);
                assertClose(expected, result.get(2), RELATIVE, "cross_entropy_grad rows=" + rows);
            }
        }
        List<float[]> result = emulator.launch("cross_entropy_grad", 1, 32, random(2 * cols, 18, -8, 0),
                new float[] {-1f, 2f}, 2, cols, 1f, new float[2 * cols]);
        for (int c = 0; c < cols; c++) {
            assertEquals(Float.NaN, result.get(2)[c], "a label outside [0, cols) makes its row NaN");
        }
    }

    private static void check(boolean exact, float[] expected, float[] actual, String what) {
        if (exact) {
            assertBits(expected, actual, what);
        } else {
            assertClose(expected, actual, RELATIVE, what);
        }
    }

    /** Equal bit patterns, except that any NaN equals any NaN. */
    private static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int k = 0; k < expected.length; k++) {
            int index = k;
            assertEquals(Float.floatToIntBits(expected[k]), Float.floatToIntBits(actual[k]),
                    () -> what + ": element " + index + " is " + actual[index] + ", expected " + expected[index]);
        }
    }

    /** NaN where NaN is expected, equal infinities, and otherwise a relative error of at most {@code relative}. */
    private static void assertClose(float[] expected, float[] actual, double relative, String what) {
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

    private static HostEmulator.Space space(int[] shape, int[] a, int[] b) {
        return new HostEmulator.Space(longs(shape), longs(a), longs(b));
    }

    private static long[] longs(int[] values) {
        return Arrays.stream(values).asLongStream().toArray();
    }

    private static int[] ints(int... values) {
        return values;
    }

    /** Elements an operand needs: one past its largest offset over the shape (at least 1). */
    private static int extent(int[] shape, int[] strides) {
        int last = 0;
        for (int axis = 0; axis < shape.length; axis++) {
            last += Math.max(shape[axis] - 1, 0) * strides[axis];
        }
        return last + 1;
    }

    private static float[] random(int n, long seed, float low, float high) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int k = 0; k < n; k++) {
            values[k] = low + (high - low) * (float) random.nextDouble();
        }
        return values;
    }

    private static float[] labels(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] labels = new float[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = random.nextInt(cols);
        }
        return labels;
    }

    /** Whole numbers in {@code [0, length)}, few distinct ones so that they repeat, some of them -0. */
    private static float[] indices(int n, int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] indices = new float[n];
        for (int k = 0; k < n; k++) {
            indices[k] = random.nextInt(length);
            if (indices[k] == 0 && k % 2 == 1) {
                indices[k] = -0f;
            }
        }
        return indices;
    }

    private static float[] concat(float[] first, float[] second) {
        float[] all = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }
}
