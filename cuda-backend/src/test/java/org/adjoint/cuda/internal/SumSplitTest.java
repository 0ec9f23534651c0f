package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.adjoint.kernels.Strided;
import org.junit.jupiter.api.Test;

/**
 * The host's plan for long sums. The kernels' own arithmetic is checked in the kernels
 * module (EmulatedReductionsTest) and through the fake driver; here the CPU twin of
 * {@code sum_to_parts} ({@link Strided#sumToParts}) and a plain model of {@code sum_to} run
 * each plan, pass after pass, against sums in double, so that a wrong second-pass index
 * space would show as a wrong output element.
 */
class SumSplitTest {

    @Test
    void biasGradientIsSplitOverTheBatchWithOutputsInnermost() {
        StridedArgument bias = StridedArgument.of(new int[] {4096, 4096}, new int[] {0, 1}, null);
        SumSplit split = SumSplit.of(bias);
        assertEquals(32, split.parts());
        assertFalse(split.partsInner());
        assertEquals(32 * 4096, split.partialCount());
        StridedArgument second = split.partialsSum(bias);
        assertArrayEquals(new long[] {32, 4096}, second.shape());
        assertArrayEquals(new long[] {0, 1}, second.a());
        assertTrue(SumSplit.of(second).single());
    }

    @Test
    void fullSumShrinksSixtyFourFoldPerPassUntilOneThreadFinishes() {
        StridedArgument all = StridedArgument.of(new int[] {4096, 4096}, new int[] {0, 0}, null);
        long[] expectedParts = {SumSplit.TARGET_THREADS, 2048, 32};
        StridedArgument pass = all;
        for (long parts : expectedParts) {
            SumSplit split = SumSplit.of(pass);
            assertEquals(parts, split.parts(), pass.toString());
            assertTrue(split.partsInner());
            pass = split.partialsSum(pass);
            assertArrayEquals(new long[] {parts}, pass.shape());
        }
        assertTrue(SumSplit.of(pass).single());
    }

    @Test
    void manyOutputsOrShortSumsStayOneKernel() {
        assertTrue(SumSplit.of(StridedArgument.of(new int[] {127, 3}, new int[] {0, 1}, null)).single());
        assertTrue(SumSplit.of(StridedArgument.of(new int[] {1 << 20, 256}, new int[] {1, 0}, null)).single());
        assertTrue(SumSplit.of(StridedArgument.of(new int[] {5, 7}, new int[] {7, 1}, null)).single());
    }

    @Test
    void everyPlanAddsUpToTheSum() {
        int[][][] cases = {
            {{300, 3}, {0, 1}},
            {{3, 300}, {1, 0}},
            {{40000}, {0}},
            {{300000}, {0}},
            {{2, 700, 3}, {3, 0, 1}},
            {{2, 700, 3}, {1, 0, 2}},
            {{50, 60, 4, 3}, {0, 3, 0, 1}},
            {{129, 2, 2}, {0, 1, 2}},
            {{1000, 1, 20}, {0, 7, 1}},
        };
        for (int[][] c : cases) {
            int[] shape = c[0];
            int[] outStrides = c[1];
            int count = 1;
            int outSize = 1;
            for (int axis = 0; axis < shape.length; axis++) {
                count *= shape[axis];
                outSize += (shape[axis] - 1) * outStrides[axis];
            }
            float[] src = new float[count];
            SplittableRandom random = new SplittableRandom(count);
            for (int i = 0; i < count; i++) {
                src[i] = (float) random.nextDouble(-1, 1);
            }
            StridedArgument strided = StridedArgument.of(shape, outStrides, null);
            assertFalse(SumSplit.of(strided).single(), "case " + Arrays.deepToString(c) + " is not split");
            float[] out = new float[outSize];
            double[] expected = new double[outSize];
            int[] position = new int[shape.length];
            for (int i = 0; i < count; i++) {
                int rest = i;
                int target = 0;
                for (int axis = shape.length - 1; axis >= 0; axis--) {
                    position[axis] = rest % shape[axis];
                    rest /= shape[axis];
                    target += position[axis] * outStrides[axis];
                }
                expected[target] += src[i];
            }
            run(src, strided, out);
            for (int k = 0; k < outSize; k++) {
                assertEquals(expected[k], out[k], 1e-5 * Math.sqrt(count) + 1e-6,
                        Arrays.deepToString(c) + " output " + k);
            }
        }
    }

    /** What CudaBackend.sumTo does, with Java models of the two kernels. */
    private static void run(float[] src, StridedArgument strided, float[] out) {
        SumSplit split = SumSplit.of(strided);
        if (split.single()) {
            sumTo(src, strided, out);
            return;
        }
        float[] partials = new float[Math.toIntExact(split.partialCount())];
        Strided.sumToParts(src, ints(strided.shape()), ints(strided.a()), Math.toIntExact(split.parts()),
                split.partsInner(), partials);
        run(partials, split.partialsSum(strided), out);
    }

    private static void sumTo(float[] src, StridedArgument strided, float[] out) {
        long[] shape = strided.shape();
        long[] a = strided.a();
        Set<Long> written = new HashSet<>();
        for (int i = 0; i < src.length; i++) {
            long rest = i;
            long target = 0;
            for (int axis = shape.length - 1; axis >= 0; axis--) {
                target += rest % shape[axis] * a[axis];
                rest /= shape[axis];
            }
            int t = Math.toIntExact(target);
            out[t] = written.add(target) ? src[i] : out[t] + src[i];
        }
    }

    private static int[] ints(long[] values) {
        int[] narrow = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            narrow[i] = Math.toIntExact(values[i]);
        }
        return narrow;
    }
}
