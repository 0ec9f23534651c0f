package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The vector provider against the scalar one (which the other kernel tests check against
 * double-precision references), over sizes around the lane count: 0, 1, primes, one short
 * of and one past a multiple of 8.
 */
class ProviderDifferentialTest {

    private static final KernelProvider SCALAR = KernelProvider.named("scalar");
    private static final KernelProvider VECTOR = KernelProvider.named("vector");
    private static final int[] SIZES = {0, 1, 2, 7, 8, 9, 13, 15, 16, 17, 31, 64, 257, 1000};
    private static final float[] SPECIAL = {0f, -0f, 1f, -1f, 1e-30f, -1e-30f, 20f, -20f, 88f, -88f, 100f, -100f,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};

    private static float[] data(long seed, int n, double low, double high, boolean specials) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = specials && i % 5 == 0 ? SPECIAL[(i / 5) % SPECIAL.length] : (float) random.nextDouble(low, high);
        }
        return x;
    }

    /** Equal, both NaN, or within {@code ulps} units in the last place of the scalar result. */
    private static void assertUlps(float[] expected, float[] actual, int ulps, String label) {
        assertEquals(expected.length, actual.length, label);
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.compare(e, a) == 0 || Float.isNaN(e) && Float.isNaN(a) || e == a) {
                continue;
            }
            if (Float.isInfinite(e) || Float.isInfinite(a) || Float.isNaN(e) || Float.isNaN(a)
                    || Math.abs(e - a) > ulps * Math.ulp(e)) {
                fail(label + ", element " + i + ": scalar " + e + ", vector " + a);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = ElementWise.Unary.class, names = {"GELU", "GELU_GRAD"}, mode = EnumSource.Mode.EXCLUDE)
    void unaryFunctionsAgree(ElementWise.Unary function) {
        for (float parameter : function == ElementWise.Unary.POW ? new float[] {2f, -1f, 0.5f, 3f} : new float[] {0f}) {
            for (int n : SIZES) {
                boolean positiveOnly = function == ElementWise.Unary.LOG || function == ElementWise.Unary.SQRT
                        || function == ElementWise.Unary.POW && parameter == 0.5f;
                float[] x = data(n * 31L + function.ordinal(), n, positiveOnly ? 1e-3 : -30, 30, true);
                float[] expected = new float[n + 3];
                float[] actual = new float[n + 3];
                SCALAR.unary(function, parameter, x, 0, expected, 3, n);
                VECTOR.unary(function, parameter, x, 0, actual, 3, n);
                assertUlps(expected, actual, 2, function + " p=" + parameter + " n=" + n);
            }
        }
    }

    /** The vector exp over its whole range, where the scaling by 2^n has to be right. */
    @Test
    void expAgreesFromUnderflowToOverflow() {
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE,
            88.72283f, 88.72284f, 88.8f, 89f, 89.5f, 100f, -87.33655f, -87.34f, -100f, -103.27893f, -103.97208f, -104f,
            -105f, -200f, 1e-8f, -1e-8f, 0.34657359f, -0.34657359f};
        int n = 1 << 20;
        float[] x = new float[n + special.length];
        for (int i = 0; i < n; i++) {
            x[i] = -110f + 205f * i / n;
        }
        System.arraycopy(special, 0, x, n, special.length);
        float[] expected = new float[x.length];
        float[] actual = new float[x.length];
        SCALAR.unary(ElementWise.Unary.EXP, 0f, x, 0, expected, 0, x.length);
        VECTOR.unary(ElementWise.Unary.EXP, 0f, x, 0, actual, 0, x.length);
        assertUlps(expected, actual, 2, "exp");
    }

    /** The vector tanh on both sides of the switch from its series to its exp form, and far out. */
    @Test
    void tanhAgreesEverywhere() {
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE,
            -Float.MIN_VALUE, 1e-30f, 0.625f, -0.625f, Math.nextDown(0.625f), 9f, 10f, 20f, -20f, 1e30f};
        int n = 1 << 20;
        float[] x = new float[2 * n + special.length];
        for (int i = 0; i < n; i++) {
            x[i] = -12f + 24f * i / n;
            x[n + i] = (float) Math.scalb(1.0 + (double) i / n, -24 + 24 * i / n);
        }
        System.arraycopy(special, 0, x, 2 * n, special.length);
        float[] expected = new float[x.length];
        float[] actual = new float[x.length];
        SCALAR.unary(ElementWise.Unary.TANH, 0f, x, 0, expected, 0, x.length);
        VECTOR.unary(ElementWise.Unary.TANH, 0f, x, 0, actual, 0, x.length);
        assertUlps(expected, actual, 2, "tanh");
    }

    /**
     * GELU and its derivative, whose vector and scalar kernels run the same operations but for
     * the exponential: within {@value #GELU_ULPS} ulps of the larger of the terms the result
     * adds ({@code |x·φ(x)|} besides the result itself, since the derivative crosses 0 near
     * −0.75), over a fine grid from the underflow of Φ to where it is 1, odd sizes and edge values.
     */
    @ParameterizedTest
    @EnumSource(value = ElementWise.Unary.class, names = {"GELU", "GELU_GRAD"})
    void geluAgreesEverywhere(ElementWise.Unary function) {
        int n = 1 << 18;
        float[] x = new float[n + SPECIAL.length];
        for (int i = 0; i < n; i++) {
            x[i] = -16f + 24f * i / n;
        }
        System.arraycopy(SPECIAL, 0, x, n, SPECIAL.length);
        assertTrue(assertGeluAgrees(function, x, function.toString()) > 0.5, "the check can fail");
        for (int size : SIZES) {
            assertGeluAgrees(function, data(size * 7L, size, -8, 8, true), function + " n=" + size);
        }
    }

    /** Scalar against vector on {@code x}; returns the largest difference in ulps of the larger term. */
    private static double assertGeluAgrees(ElementWise.Unary function, float[] x, String label) {
        float[] expected = new float[x.length];
        float[] actual = new float[x.length];
        SCALAR.unary(function, 0f, x, 0, expected, 0, x.length);
        VECTOR.unary(function, 0f, x, 0, actual, 0, x.length);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(e) || Float.isInfinite(e) || Float.isNaN(a) || Float.isInfinite(a)) {
                assertEquals(e, a, label + ": x = " + x[i]);
                continue;
            }
            double density = Math.exp(-0.5 * x[i] * x[i]) / Math.sqrt(2 * Math.PI);
            double scale = Math.max(Math.abs(e), Math.abs(x[i] * density));
            double ulp = Math.max(Math.ulp((float) scale), Math.scalb(Float.MIN_NORMAL, -10));
            double error = Math.abs(e - a) / ulp;
            worst = Math.max(worst, error);
            if (!(error <= GELU_ULPS)) {
                fail(label + ": x = " + x[i] + ": scalar " + e + ", vector " + a + " (" + error + " ulps)");
            }
        }
        return worst;
    }

    /** How far apart the GELU kernels may be, in ulps of the larger term (see {@link #geluAgreesEverywhere}). */
    private static final double GELU_ULPS = 4;

    /** Layer norm and its gradients: within float rounding of the scalar kernel, over sizes around the lane count. */
    @Test
    void layerNormAgrees() {
        for (int size : SIZES) {
            if (size == 0) {
                continue;
            }
            int rows = 5;
            float[] x = data(size * 3L, rows * size, -3, 5, false);
            float[] weight = data(size * 3L + 1, size, 0.5, 1.5, false);
            float[] bias = data(size * 3L + 2, size, -1, 1, false);
            float[] dy = data(size * 3L + 3, rows * size, -1, 1, false);
            float[][] outs = new float[2][rows * size];
            float[][] means = new float[2][rows];
            float[][] rstds = new float[2][rows];
            float[][] dxs = new float[2][rows * size];
            float[][] dweights = new float[2][size];
            KernelProvider[] providers = {SCALAR, VECTOR};
            for (int p = 0; p < 2; p++) {
                providers[p].layerNorm(x, weight, bias, rows, size, 1e-5f, outs[p], means[p], rstds[p]);
                providers[p].layerNormGrad(x, weight, means[0], rstds[0], dy, rows, size, dxs[p], dweights[p]);
            }
            String label = "layerNorm " + rows + "x" + size;
            assertClose(outs[0], outs[1], 1e-6, label + " output");
            assertClose(means[0], means[1], 1e-6, label + " mean");
            assertClose(rstds[0], rstds[1], 1e-6, label + " rstd");
            assertClose(dxs[0], dxs[1], 1e-5, label + " input gradient");
            assertClose(dweights[0], dweights[1], 1e-5, label + " weight gradient");
        }
    }

    /** Within {@code tolerance · max(1, |expected|)}, element by element. */
    private static void assertClose(float[] expected, float[] actual, double tolerance, String label) {
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tolerance * Math.max(1, Math.abs(expected[i])))) {
                fail(label + ", element " + i + ": scalar " + expected[i] + ", vector " + actual[i]);
            }
        }
    }

    @Test
    void unaryInPlaceAgrees() {
        float[] x = data(3, 100, -5, 5, false);
        float[] copy = x.clone();
        float[] expected = new float[100];
        SCALAR.unary(ElementWise.Unary.TANH, 0f, x, 0, expected, 0, 100);
        VECTOR.unary(ElementWise.Unary.TANH, 0f, copy, 0, copy, 0, 100);
        assertUlps(expected, copy, 2, "tanh in place");
    }

    static Stream<Arguments> broadcasts() {
        return Stream.of(
                Arguments.of(new int[] {37}, new int[] {1}, new int[] {1}),
                Arguments.of(new int[] {5, 17}, new int[] {17, 1}, new int[] {17, 1}),
                Arguments.of(new int[] {5, 17}, new int[] {17, 1}, new int[] {0, 1}),
                Arguments.of(new int[] {5, 17}, new int[] {0, 1}, new int[] {17, 1}),
                Arguments.of(new int[] {9, 33}, new int[] {1, 9}, new int[] {0, 0}),
                Arguments.of(new int[] {4, 3, 19}, new int[] {57, 19, 1}, new int[] {1, 0, 0}),
                Arguments.of(new int[] {2, 3, 8}, new int[] {0, 8, 1}, new int[] {24, 8, 1}),
                Arguments.of(new int[] {}, new int[] {}, new int[] {}),
                Arguments.of(new int[] {3, 0}, new int[] {0, 1}, new int[] {0, 1}));
    }

    /** +, −, ×, ÷ are correctly rounded in both providers: the results are bitwise equal. */
    @ParameterizedTest
    @MethodSource("broadcasts")
    void binaryOperationsAgreeExactly(int[] shape, int[] lhsStrides, int[] rhsStrides) {
        int n = Strided.size(shape);
        float[] lhs = data(1, 400, -3, 3, true);
        float[] rhs = data(2, 400, -3, 3, true);
        for (Strided.Binary function : Strided.Binary.values()) {
            float[] expected = new float[n];
            float[] actual = new float[n];
            SCALAR.binary(function, lhs, lhsStrides, rhs, rhsStrides, expected, shape);
            VECTOR.binary(function, lhs, lhsStrides, rhs, rhsStrides, actual, shape);
            assertArrayEquals(expected, actual, function + " " + Arrays.toString(shape));
        }
    }

    static Stream<Arguments> reductions() {
        return Stream.of(
                Arguments.of(new int[] {1000}, new int[] {0}),
                Arguments.of(new int[] {64, 33}, new int[] {0, 1}),
                Arguments.of(new int[] {64, 33}, new int[] {1, 0}),
                Arguments.of(new int[] {3, 5, 17}, new int[] {0, 17, 1}),
                Arguments.of(new int[] {3, 5, 17}, new int[] {5, 1, 0}),
                Arguments.of(new int[] {7, 9}, new int[] {0, 0}));
    }

    /** Sums are reassociated by the vector provider: equal within a few ulps of the total's magnitude. */
    @ParameterizedTest
    @MethodSource("reductions")
    void sumsAgree(int[] shape, int[] outStrides) {
        float[] src = data(9, Strided.size(shape), 0, 1, false);
        int outSize = 1;
        for (int i = 0; i < shape.length; i++) {
            if (outStrides[i] != 0) {
                outSize = Math.max(outSize, outStrides[i] * shape[i]);
            }
        }
        float[] expected = new float[outSize];
        float[] actual = new float[outSize];
        Arrays.fill(actual, 42f);
        SCALAR.sumTo(src, shape, expected, outStrides);
        VECTOR.sumTo(src, shape, actual, outStrides);
        for (int i = 0; i < outSize; i++) {
            assertEquals(expected[i], actual[i], 1e-6 * Strided.size(shape), "output " + i + " of " + Arrays.toString(shape));
        }
    }

    @Test
    void softmaxAgrees() {
        for (int length : new int[] {1, 7, 8, 9, 100, 1000}) {
            float[] x = data(length, 3 * length, -20, 20, false);
            x[0] = 1000f;
            for (boolean log : new boolean[] {false, true}) {
                float[] expected = new float[x.length];
                float[] actual = new float[x.length];
                SCALAR.softmax(x, 3, length, 1, log, expected);
                VECTOR.softmax(x, 3, length, 1, log, actual);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, Math.abs(expected[i])),
                            "length " + length + " log " + log + " element " + i);
                }
                float[] strided = new float[x.length];
                VECTOR.softmax(x, 1, length, 3, log, strided);
                float[] stridedExpected = new float[x.length];
                SCALAR.softmax(x, 1, length, 3, log, stridedExpected);
                assertArrayEquals(stridedExpected, strided);
            }
        }
    }
}
