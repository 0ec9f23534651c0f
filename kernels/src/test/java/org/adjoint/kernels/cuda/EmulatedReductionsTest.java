package org.adjoint.kernels.cuda;

import static org.adjoint.kernels.cuda.EmulatorSupport.LAUNCHES;
import static org.adjoint.kernels.cuda.EmulatorSupport.assertBits;
import static org.adjoint.kernels.cuda.EmulatorSupport.assertClose;
import static org.adjoint.kernels.cuda.EmulatorSupport.ints;
import static org.adjoint.kernels.cuda.EmulatorSupport.random;
import static org.adjoint.kernels.cuda.EmulatorSupport.spreadOverBinades;
import static org.adjoint.kernels.cuda.EmulatorSupport.space;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.adjoint.kernels.AxisReductions;
import org.adjoint.kernels.Strided;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The reduction device kernels ({@code sum_to}, {@code sum_to_parts}, {@code max_axis},
 * {@code softmax}) on the emulator against {@link Strided} and {@link AxisReductions}: sums
 * must add in the CPU's order, bit for bit.
 */
class EmulatedReductionsTest {

    @RegisterExtension
    static final EmulatorSupport EMULATOR = new EmulatorSupport();

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
            float[] src = spreadOverBinades(Strided.size(shape), 7);
            if (src.length == 1) {
                src[0] = -0f;
            }
            float[] expected = new float[outCount];
            Strided.sumTo(src, 0, shape, expected, 0, reduction.outStrides(), outCount);
            float[] garbage = new float[outCount];
            Arrays.fill(garbage, 123f);
            EMULATOR.assertBitsOnEveryLaunch(expected, 1, "sum_to " + reduction, "sum_to", src, garbage,
                    space(shape, reduction.outStrides(), new int[shape.length]), (long) outCount);
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
            float[] src = spreadOverBinades(Strided.size(shape), 9);
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
                    EMULATOR.assertBitsOnEveryLaunch(expected, 1,
                            "sum_to_parts " + reduction + " parts " + parts + (partsInner == 1 ? " inner" : " outer"),
                            "sum_to_parts", src, garbage, space(shape, outStrides, new int[shape.length]),
                            (long) outCount, (long) parts, partsInner);
                }
            }
        }
    }

    /** column_sums' order: lanes of rows per column in float, then the lanes in order. */
    private static float[] columnSums(float[] x, int rows, int cols, int block) {
        int width = Math.min(32, block);
        int lanes = block / width;
        float[] out = new float[cols];
        for (int c = 0; c < cols; c++) {
            float total = 0f;
            for (int lane = 0; lane < lanes; lane++) {
                float sum = 0f;
                for (int r = lane; r < rows; r += lanes) {
                    sum += x[r * cols + c];
                }
                total = lane == 0 ? sum : total + sum;
            }
            out[c] = total;
        }
        return out;
    }

    @Test
    void columnSumsAddEachColumnInLanesThenTheLanesInOrder() throws IOException {
        // {rows, cols}: partial column groups and lanes, one row, one column, more rows than lanes.
        int[][] shapes = {{1, 1}, {9, 33}, {300, 70}, {129, 5}};
        long seed = 60;
        for (int[] shape : shapes) {
            int rows = shape[0], cols = shape[1];
            float[] x = random(rows * cols, seed++, -4, 4);
            for (int[] launch : new int[][] {{1, 1}, {3, 32}, {2, 256}, {1, 96}}) {
                float[] out = EMULATOR.launch("column_sums", launch[0], launch[1], x, (long) rows, (long) cols,
                        new float[cols]).get(1);
                String what = "column_sums " + rows + " x " + cols + " launch " + Arrays.toString(launch);
                assertBits(columnSums(x, rows, cols, launch[1]), out, what);
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
                List<float[]> result = EMULATOR.launch("max_axis", launch[0], launch[1], x, new float[values.length],
                        staleMask, outer, length, inner);
                assertBits(values, result.get(1), what + " values");
                assertBits(mask, result.get(2), what + " mask");
                List<float[]> noMask = EMULATOR.launch("max_axis", launch[0], launch[1], x, new float[values.length],
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
                    List<float[]> result = EMULATOR.launch("softmax", launch[0], launch[1], x, new float[x.length],
                            outer, length, inner, log ? 1 : 0);
                    assertClose(expected, result.get(1), 1e-6, what + " launch " + Arrays.toString(launch));
                }
                List<float[]> inPlace = EMULATOR.launch("softmax", 2, 256, x, new HostEmulator.Alias(0), outer, length,
                        inner, log ? 1 : 0);
                assertClose(expected, inPlace.get(0), 1e-6, what + " in place");
            }
        }
    }
}
