package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The pooling kernels of both providers against loops written here from the definitions:
 * the first maximal tap of each window in tap order (padding −∞, a NaN wins and stays), the
 * scatters adding to +0 window by window. Max pooling selects, so every comparison is bitwise;
 * so are the average kernels, whose loops add in the same order as the reference.
 */
class PoolingTest {

    private static final List<KernelProvider> PROVIDERS = List.of(ScalarKernels.INSTANCE, VectorKernels.INSTANCE);

    /** planes, height, width, kernel, stride, padding, dilation. */
    private static final int[][] WINDOWS = {
        {3, 28, 28, 2, 2, 0, 1}, {2, 14, 14, 2, 2, 0, 1}, {2, 7, 9, 2, 2, 0, 1}, {1, 2, 2, 2, 2, 0, 1},
        {3, 5, 67, 2, 2, 0, 1}, {2, 9, 35, 2, 2, 0, 1}, {2, 7, 7, 3, 2, 1, 1}, {1, 6, 5, 3, 1, 0, 1},
        {2, 9, 4, 4, 3, 2, 1}, {1, 8, 8, 1, 2, 0, 1}, {2, 9, 11, 3, 2, 1, 2}, {1, 4, 6, 2, 1, 1, 1},
        {4, 6, 6, 2, 2, 0, 1}, {3, 12, 12, 2, 2, 0, 1}, {3, 15, 16, 2, 2, 0, 1}, {2, 33, 34, 2, 2, 0, 1},
        {3, 9, 11, 2, 2, 0, 1}, {3, 10, 22, 2, 2, 0, 1}, {4, 7, 21, 2, 2, 0, 1},
    };

    private static Pooling.Window window(int[] w) {
        return new Pooling.Window(w[0], w[1], w[2], w[3], w[3], w[4], w[5], w[6]);
    }

    /** Values with many ties, some NaNs, infinities and signed zeros. */
    private static float[] awkward(long seed, int size) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] specials = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f};
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            int pick = random.nextInt(40);
            x[i] = pick < specials.length ? specials[pick] : random.nextInt(7) - 3;
        }
        return x;
    }

    /** The same bits, except that any NaN equals any NaN (which NaN a sum of two keeps is the compiler's choice). */
    private static void assertBits(float[] expected, float[] actual, String message) {
        assertEquals(expected.length, actual.length, message);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                throw new AssertionError(message + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    private static float[] gaussian(long seed, int size) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** For each output, the input index of each tap in tap order, −1 on padding. */
    private static int[][] taps(Pooling.Window w) {
        int outs = w.planes() * w.outHeight() * w.outWidth();
        int[][] taps = new int[outs][w.taps()];
        int o = 0;
        for (int plane = 0; plane < w.planes(); plane++) {
            for (int oh = 0; oh < w.outHeight(); oh++) {
                for (int ow = 0; ow < w.outWidth(); ow++, o++) {
                    int t = 0;
                    for (int i = 0; i < w.kernelHeight(); i++) {
                        for (int j = 0; j < w.kernelWidth(); j++, t++) {
                            int h = oh * w.stride() - w.padding() + i * w.dilation();
                            int x = ow * w.stride() - w.padding() + j * w.dilation();
                            boolean inside = h >= 0 && h < w.height() && x >= 0 && x < w.width();
                            taps[o][t] = inside ? (plane * w.height() + h) * w.width() + x : -1;
                        }
                    }
                }
            }
        }
        return taps;
    }

    private static int firstMax(float[] in, int[] window) {
        int best = 0;
        for (int t = 1; t < window.length; t++) {
            float current = read(in, window[best], Float.NEGATIVE_INFINITY);
            float v = read(in, window[t], Float.NEGATIVE_INFINITY);
            if (Float.isNaN(current)) {
                break;
            }
            if (v > current || Float.isNaN(v)) {
                best = t;
            }
        }
        return best;
    }

    private static float read(float[] in, int index, float pad) {
        return index < 0 ? pad : in[index];
    }

    private static int[] bits(float[] x) {
        int[] bits = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            bits[i] = Float.floatToRawIntBits(x[i]);
        }
        return bits;
    }

    @Test
    void maxPoolingPicksTheFirstMaximumOrNanOfEachWindow() {
        for (int[] spec : WINDOWS) {
            Pooling.Window w = window(spec);
            float[] in = awkward(spec[1] * 31L + spec[2], (int) w.inputSize());
            int[][] taps = taps(w);
            float[] expectedValues = new float[taps.length];
            float[] expectedArgmax = new float[taps.length];
            for (int o = 0; o < taps.length; o++) {
                int t = firstMax(in, taps[o]);
                expectedArgmax[o] = t;
                expectedValues[o] = read(in, taps[o][t], Float.NEGATIVE_INFINITY);
            }
            for (KernelProvider provider : PROVIDERS) {
                String what = provider.name() + " " + Arrays.toString(spec);
                float[] values = new float[taps.length];
                float[] argmax = new float[taps.length];
                provider.maxPool(in, w, values, argmax);
                assertArrayEquals(bits(expectedValues), bits(values), what + " values");
                assertArrayEquals(expectedArgmax, argmax, what + " argmax");
                float[] alone = new float[taps.length];
                provider.maxPool(in, w, alone, null);
                assertArrayEquals(bits(values), bits(alone), what + " values without the argmax");
            }
        }
    }

    @Test
    void theScatterAndGatherFollowTheArgmax() {
        for (int[] spec : WINDOWS) {
            Pooling.Window w = window(spec);
            float[] in = awkward(spec[1] * 17L + spec[2], (int) w.inputSize());
            int[][] taps = taps(w);
            float[] grad = gaussian(spec[0] + 5L, taps.length);
            grad[0] = -0f;
            float[] argmax = new float[taps.length];
            float[] values = new float[taps.length];
            ScalarKernels.INSTANCE.maxPool(in, w, values, argmax);
            float[] expectedDx = new float[(int) w.inputSize()];
            float[] expectedGather = new float[taps.length];
            for (int o = 0; o < taps.length; o++) {
                int at = taps[o][(int) argmax[o]];
                if (at >= 0) {
                    expectedDx[at] += grad[o];
                }
                expectedGather[o] = read(in, at, 0f);
            }
            for (KernelProvider provider : PROVIDERS) {
                String what = provider.name() + " " + Arrays.toString(spec);
                float[] dx = new float[(int) w.inputSize()];
                Arrays.fill(dx, Float.NaN);                    // overwritten whole
                provider.maxPoolScatter(grad, argmax, w, dx);
                assertArrayEquals(bits(expectedDx), bits(dx), what + " scatter");
                float[] gathered = new float[taps.length];
                provider.maxPoolGather(in, argmax, w, gathered);
                assertArrayEquals(bits(expectedGather), bits(gathered), what + " gather");
            }
        }
    }

    @Test
    void averagePoolingCountsPaddedZerosAndAddsInTapOrder() {
        for (int[] spec : WINDOWS) {
            Pooling.Window w = window(spec);
            float[] in = gaussian(spec[1] * 7L + spec[2], (int) w.inputSize());
            int[][] taps = taps(w);
            float scale = 1f / w.taps();
            float[] grad = gaussian(spec[0] + 9L, taps.length);
            float[] expected = new float[taps.length];
            float[] expectedDx = new float[(int) w.inputSize()];
            for (int o = 0; o < taps.length; o++) {
                float sum = 0f;
                for (int at : taps[o]) {
                    if (at >= 0) {
                        sum += in[at];
                        expectedDx[at] += grad[o] * scale;
                    }
                }
                expected[o] = sum * scale;
            }
            for (KernelProvider provider : PROVIDERS) {
                String what = provider.name() + " " + Arrays.toString(spec);
                float[] out = new float[taps.length];
                provider.avgPool(in, w, out);
                assertArrayEquals(bits(expected), bits(out), what + " average");
                float[] dx = new float[(int) w.inputSize()];
                Arrays.fill(dx, Float.NaN);
                provider.avgPoolScatter(grad, w, dx);
                assertArrayEquals(bits(expectedDx), bits(dx), what + " average scatter");
            }
        }
    }

    @Test
    void manyPlanesOnSeveralThreadsGiveEachPlanesOwnBits() {
        // Enough input to split among threads: every plane must come out as when pooled alone.
        Pooling.Window batch = new Pooling.Window(200, 28, 28, 2, 2, 2, 0, 1);
        Pooling.Window overlapping = new Pooling.Window(200, 28, 28, 3, 3, 2, 1, 1);
        assertTrue(batch.inputSize() >= Pooling.SERIAL_BELOW);
        // Halving windows of 7 to 15 outputs a row, even and odd sizes: whole vectors run past a
        // row's end into the next one, never past a thread's planes.
        List<Pooling.Window> halving = List.of(new Pooling.Window(700, 14, 15, 2, 2, 2, 0, 1),
                new Pooling.Window(900, 12, 12, 2, 2, 2, 0, 1), new Pooling.Window(160, 29, 30, 2, 2, 2, 0, 1));
        for (Pooling.Window w : Stream.concat(Stream.of(batch, overlapping), halving.stream()).toList()) {
            Pooling.Window one = new Pooling.Window(1, w.height(), w.width(), w.kernelHeight(), w.kernelWidth(),
                    w.stride(), w.padding(), w.dilation());
            int plane = w.height() * w.width();
            int outPlane = w.outHeight() * w.outWidth();
            float[] in = awkward(3, (int) w.inputSize());
            float[] grad = gaussian(4, (int) w.outputSize());
            for (KernelProvider provider : PROVIDERS) {
                float[] values = new float[(int) w.outputSize()];
                float[] argmax = new float[values.length];
                float[] dx = new float[in.length];
                float[] avg = new float[values.length];
                float[] avgDx = new float[in.length];
                provider.maxPool(in, w, values, argmax);
                provider.maxPoolScatter(grad, argmax, w, dx);
                provider.avgPool(in, w, avg);
                provider.avgPoolScatter(grad, w, avgDx);
                for (int p = 0; p < w.planes(); p += 13) {
                    float[] inPlane = Arrays.copyOfRange(in, p * plane, (p + 1) * plane);
                    float[] gradPlane = Arrays.copyOfRange(grad, p * outPlane, (p + 1) * outPlane);
                    float[] v = new float[outPlane];
                    float[] a = new float[outPlane];
                    float[] d = new float[plane];
                    float[] av = new float[outPlane];
                    float[] ad = new float[plane];
                    provider.maxPool(inPlane, one, v, a);
                    provider.maxPoolScatter(gradPlane, a, one, d);
                    provider.avgPool(inPlane, one, av);
                    provider.avgPoolScatter(gradPlane, one, ad);
                    String what = provider.name() + " plane " + p;
                    assertArrayEquals(bits(v), bits(Arrays.copyOfRange(values, p * outPlane, (p + 1) * outPlane)), what);
                    assertArrayEquals(a, Arrays.copyOfRange(argmax, p * outPlane, (p + 1) * outPlane), what);
                    assertArrayEquals(bits(d), bits(Arrays.copyOfRange(dx, p * plane, (p + 1) * plane)), what);
                    // Sums of infinities make NaNs whose sign x86 leaves to the operand order: compare them as NaN.
                    assertArrayEquals(av, Arrays.copyOfRange(avg, p * outPlane, (p + 1) * outPlane), what);
                    assertArrayEquals(ad, Arrays.copyOfRange(avgDx, p * plane, (p + 1) * plane), what);
                }
            }
        }
    }

    @Test
    void anArgmaxThatIsNoTapNumberAndShortArraysAreRefused() {
        Pooling.Window w = new Pooling.Window(1, 4, 40, 2, 2, 2, 0, 1);
        float[] grad = new float[(int) w.outputSize()];
        for (KernelProvider provider : PROVIDERS) {
            for (float bad : new float[] {4f, -1f, 1.5f, Float.NaN}) {
                float[] argmax = new float[grad.length];
                argmax[25] = bad;
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> provider.maxPoolScatter(grad, argmax, w, new float[(int) w.inputSize()]));
                assertTrue(e.getMessage().startsWith("maxPoolScatter: argmax entry 25 is "), e.getMessage());
                assertThrows(IllegalArgumentException.class,
                        () -> provider.maxPoolGather(new float[(int) w.inputSize()], argmax, w, new float[grad.length]));
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> provider.maxPool(new float[10], w, new float[grad.length], null));
            assertTrue(e.getMessage().contains("the input holds 10 elements"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> provider.avgPool(new float[(int) w.inputSize()], w, new float[3]));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Pooling.Window(1, 2, 2, 3, 3, 1, 0, 1));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        assertEquals(14, new Pooling.Window(1, 28, 29, 2, 2, 2, 0, 1).outWidth());
    }

    /** Windows that do not overlap, as {@code maxPoolReluGrad} takes them: planes, channels, height, width, kernel, stride. */
    private static final int[][] APART = {
        {6, 3, 28, 28, 2, 2}, {4, 2, 7, 9, 2, 2}, {2, 1, 14, 14, 2, 2}, {6, 6, 5, 67, 2, 2}, {4, 4, 9, 35, 2, 2},
        {4, 2, 9, 10, 3, 3}, {2, 2, 8, 7, 2, 3}, {3, 3, 2, 2, 2, 2}, {64, 32, 6, 6, 2, 2}, {6, 3, 9, 11, 2, 2},
        {4, 2, 10, 22, 2, 2},
    };

    @Test
    void theReluGradientFromThePooledValuesHasTheBitsOfTheScatterAndTheReluPass() {
        long seed = 600;
        for (int[] a : APART) {
            Pooling.Window w = new Pooling.Window(a[0], a[2], a[3], a[4], a[4], a[5], 0, 1);
            int channels = a[1];
            int images = a[0] / channels;
            int positions = a[2] * a[3];
            int n = Math.toIntExact(w.inputSize());
            int m = Math.toIntExact(w.outputSize());
            // A ReLU's output: ties at +0 and −0 where the pre-activation was not positive, a few NaNs.
            float[] y = awkward(seed, n);
            for (int i = 0; i < n; i++) {
                y[i] = Math.max(y[i], 0f);
            }
            float[] dp = awkward(seed + 1, m);
            for (KernelProvider provider : PROVIDERS) {
                String label = Arrays.toString(a) + " " + provider.name();
                float[] values = new float[m];
                float[] argmax = new float[m];
                provider.maxPool(y, w, values, argmax);
                float[] dy = new float[n];
                provider.maxPoolScatter(dp, argmax, w, dy);
                float[] expected = new float[n + channels];
                provider.channelReluGrad(y, dy, expected, true, images, channels, positions);
                float[] grads = gaussian(seed + 2, n + channels);
                provider.maxPoolReluGrad(values, argmax, dp, w, channels, true, grads);
                assertBits(expected, grads, label);
                float[] alone = gaussian(seed + 3, n);
                provider.maxPoolReluGrad(values, argmax, dp, w, channels, false, alone);
                assertBits(Arrays.copyOf(expected, n), alone, label + " without the sums");
            }
            seed += 10;
        }
    }

    @Test
    void theReluGradientRefusesOverlappingWindowsAndBadTaps() {
        Pooling.Window overlapping = new Pooling.Window(2, 6, 6, 3, 3, 2, 0, 1);
        float[] four = new float[2 * 2 * 2];
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                () -> VectorKernels.INSTANCE.maxPoolReluGrad(new float[8], new float[8], new float[8], overlapping, 2,
                        false, new float[72]));
        assertTrue(overlap.getMessage().startsWith("maxPoolReluGrad: the windows overlap (window 3x3"),
                overlap.getMessage());
        Pooling.Window halving = new Pooling.Window(2, 4, 4, 2, 2, 2, 0, 1);
        for (KernelProvider provider : PROVIDERS) {
            float[] argmax = new float[8];
            argmax[5] = 4f;
            IllegalArgumentException tap = assertThrows(IllegalArgumentException.class,
                    () -> provider.maxPoolReluGrad(four, argmax, four, halving, 1, true, new float[33]));
            assertEquals("maxPoolReluGrad: argmax entry 5 is 4.0, not a tap number in [0, 4)", tap.getMessage(),
                    provider.name());
            IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                    () -> provider.maxPoolReluGrad(four, new float[8], four, halving, 3, true, new float[35]));
            assertEquals("maxPoolReluGrad: 3 channels do not divide the 2 planes", channels.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> provider.maxPoolReluGrad(four, new float[8], four, halving, 2, true, new float[33]));
        }
    }
}
