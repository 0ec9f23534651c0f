package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link DirectWeightGrad} against the weight gradient in double precision, at the CNN's
 * shapes, odd sizes, one image, groups, dilation 2, output counts that leave a remainder of
 * the 4-channel tile and planes that end mid-vector; and its fixed order: the same bits
 * through {@link VectorKernels}, run twice.
 */
class DirectWeightGradTest {

    /** A 3×3 "same" convolution, stride 1, padding = dilation. */
    record Shape(int images, int channels, int height, int width, int outputs, int groups, int dilation) {

        @Override
        public String toString() {
            return images + "x" + channels + "x" + height + "x" + width + "->" + outputs + " g" + groups + " d"
                    + dilation;
        }
    }

    static List<Shape> shapes() {
        return List.of(
                new Shape(3, 1, 28, 28, 32, 1, 1),
                new Shape(4, 32, 14, 14, 64, 1, 1),
                new Shape(1, 1, 5, 7, 3, 1, 1),
                new Shape(2, 3, 9, 11, 6, 1, 1),
                new Shape(2, 4, 10, 9, 6, 2, 1),
                new Shape(2, 5, 13, 12, 7, 1, 2),
                new Shape(1, 2, 2, 2, 5, 1, 1),
                new Shape(2, 6, 3, 17, 9, 3, 1),
                new Shape(3, 1, 14, 14, 10, 1, 1),
                new Shape(0, 2, 4, 4, 4, 1, 1));
    }

    private static float[] random(long seed, int n) {
        return TestArrays.uniform(seed, n);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void matchesTheWeightGradientInDoublePrecision(Shape s) {
        int positions = s.height() * s.width();
        int perGroup = s.channels() / s.groups();
        int m = s.outputs() / s.groups();
        float[] x = random(1, s.images() * s.channels() * positions);
        float[] dy = random(2, s.images() * s.outputs() * positions);
        float[] dw = random(3, s.outputs() * perGroup * 9);
        DirectWeightGrad.weightGrad(x, dy, dw, s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                s.groups(), s.dilation());
        int d = s.dilation();
        for (int o = 0; o < s.outputs(); o++) {
            int g = o / m;
            for (int c = 0; c < perGroup; c++) {
                for (int t = 0; t < 9; t++) {
                    int dh = (t / 3 - 1) * d;
                    int dwc = (t % 3 - 1) * d;
                    double sum = 0;
                    for (int p = 0; p < s.images(); p++) {
                        for (int oh = 0; oh < s.height(); oh++) {
                            for (int ow = 0; ow < s.width(); ow++) {
                                int h = oh + dh;
                                int w = ow + dwc;
                                if (h >= 0 && h < s.height() && w >= 0 && w < s.width()) {
                                    sum += (double) dy[(p * s.outputs() + o) * positions + oh * s.width() + ow]
                                            * x[(p * s.channels() + g * perGroup + c) * positions + h * s.width() + w];
                                }
                            }
                        }
                    }
                    float actual = dw[(o * perGroup + c) * 9 + t];
                    assertEquals(sum, actual, 1e-5 * (1 + Math.sqrt(s.images() * positions)),
                            s + " at output " + o + ", channel " + c + ", tap " + t);
                }
            }
        }
    }

    /**
     * The documented order, emulated one lane at a time with {@code Math.fma}: lane {@code i}
     * of the sum of (output, channel, tap) takes positions {@code i, i + L, …} of every image,
     * images in order, from zero; the lanes are then added in order. Pins the bits whichever
     * accumulators the kernel groups in one pass (a tile's three tap rows or all nine taps).
     */
    @ParameterizedTest
    @MethodSource("shapes")
    void sumsEachLaneInOrderThenTheLanes(Shape s) {
        int positions = s.height() * s.width();
        int perGroup = s.channels() / s.groups();
        int m = s.outputs() / s.groups();
        int lanes = DirectWeightGrad.L;
        float[] x = random(10, s.images() * s.channels() * positions);
        float[] dy = random(11, s.images() * s.outputs() * positions);
        float[] dw = random(12, s.outputs() * perGroup * 9);
        DirectWeightGrad.weightGrad(x, dy, dw, s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                s.groups(), s.dilation());
        int d = s.dilation();
        for (int o = 0; o < s.outputs(); o++) {
            int g = o / m;
            for (int c = 0; c < perGroup; c++) {
                for (int t = 0; t < 9; t++) {
                    int dh = (t / 3 - 1) * d;
                    int dwc = (t % 3 - 1) * d;
                    float total = 0f;
                    for (int lane = 0; lane < lanes; lane++) {
                        float acc = 0f;
                        for (int p = 0; p < s.images(); p++) {
                            for (int q = lane; q < positions; q += lanes) {
                                int h = q / s.width() + dh;
                                int w = q % s.width() + dwc;
                                float value = h >= 0 && h < s.height() && w >= 0 && w < s.width()
                                        ? x[(p * s.channels() + g * perGroup + c) * positions + h * s.width() + w]
                                        : 0f;
                                acc = Math.fma(dy[(p * s.outputs() + o) * positions + q], value, acc);
                            }
                        }
                        total += acc;
                    }
                    assertEquals(Float.floatToIntBits(total), Float.floatToIntBits(dw[(o * perGroup + c) * 9 + t]),
                            s + " at output " + o + ", channel " + c + ", tap " + t);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void theProviderGivesTheSameBitsEveryTime(Shape s) {
        int positions = s.height() * s.width();
        int perGroup = s.channels() / s.groups();
        float[] x = random(4, s.images() * s.channels() * positions);
        float[] dy = random(5, s.images() * s.outputs() * positions);
        float[] first = new float[s.outputs() * perGroup * 9];
        float[] second = random(6, first.length);
        for (float[] dw : new float[][] {first, second}) {
            DirectWeightGrad.weightGrad(x, dy, dw, s.images(), s.channels(), s.height(), s.width(),
                    s.outputs(), s.groups(), s.dilation());
        }
        assertArrayEquals(first, second, s.toString());
    }

    @Test
    void anInfiniteCotangentInsideMakesNaNButThePaddingOfTheLastBlockDoesNot() {
        // 5×5 = 25 positions: the last vector ends past the plane, where the next channel's cotangent lies.
        float[] x = random(7, 2 * 25);
        float[] dy = new float[2 * 25];
        java.util.Arrays.fill(dy, 0.5f);
        dy[25] = Float.POSITIVE_INFINITY;
        float[] dw = new float[2 * 9];
        DirectWeightGrad.weightGrad(x, dy, dw, 1, 1, 5, 5, 2, 1, 1);
        for (int t = 0; t < 9; t++) {
            assertFalse(Float.isNaN(dw[t]), "output 0, tap " + t + " reads no infinity");
        }
        // Output 1's first position reads padding under taps 0, 1, 2, 3 and 6: ∞ · 0 is NaN there as in the GEMM.
        assertTrue(Float.isNaN(dw[9]));
        assertEquals(Float.POSITIVE_INFINITY, Math.abs(dw[9 + 4]));
    }

    @Test
    void takesOnlyOneChannelSameThreeByThreeStrideOne() {
        assertTrue(DirectWeightGrad.takes(1, 32, 28, 28, 3, 3, 1, 1, 1));
        assertTrue(DirectWeightGrad.takes(1, 4, 14, 14, 3, 3, 1, 2, 2));
        assertFalse(DirectWeightGrad.takes(32, 64, 14, 14, 3, 3, 1, 1, 1));
        assertFalse(DirectWeightGrad.takes(1, 3, 28, 28, 3, 3, 1, 1, 1));
        assertFalse(DirectWeightGrad.takes(1, 32, 28, 28, 3, 3, 2, 1, 1));
        assertFalse(DirectWeightGrad.takes(1, 32, 28, 28, 3, 3, 1, 0, 1));
        assertFalse(DirectWeightGrad.takes(1, 32, 28, 28, 5, 5, 1, 2, 1));
        assertFalse(DirectWeightGrad.takes(1, 32, 28, 28, 3, 2, 1, 1, 1));
        assertFalse(DirectWeightGrad.takes(1, 32, 2, 9, 3, 3, 1, 2, 2));
    }

    @Test
    void theVectorProviderRunsItForOneChannelAndTheImplicitGemmForMore() {
        int positions = 28 * 28;
        float[] x = random(8, 2 * positions);
        float[] dy = random(9, 2 * 32 * positions);
        float[] direct = new float[32 * 9];
        float[] provider = new float[32 * 9];
        DirectWeightGrad.weightGrad(x, dy, direct, 2, 1, 28, 28, 32, 1, 1);
        VectorKernels.INSTANCE.conv2dWeightGrad(x, dy, provider, 2, 1, 28, 28, 32, 1, 3, 3, 1, 1, 1);
        assertArrayEquals(direct, provider);
        assertTrue(VectorKernels.INSTANCE.directConv2dWeightGrad(1, 28, 28, 32, 1, 3, 3, 1, 1, 1));
        assertFalse(VectorKernels.INSTANCE.directConv2dWeightGrad(32, 14, 14, 64, 1, 3, 3, 1, 1, 1));
        assertFalse(ScalarKernels.INSTANCE.directConv2dWeightGrad(1, 28, 28, 32, 1, 3, 3, 1, 1, 1));
    }
}
