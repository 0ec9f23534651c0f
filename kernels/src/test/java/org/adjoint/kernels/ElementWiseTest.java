package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.adjoint.kernels.ElementWise.Unary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class ElementWiseTest {

    private static final float SENTINEL = -999.5f;
    private static final float[] SPECIAL = {
        -1e20f, -1e4f, -100f, -88f, -20f, -3.5f, -1f, -0.5f, -1e-3f, -1e-30f, -0f, 0f, 1e-30f, 1e-3f,
        0.5f, 1f, 2f, 3.5f, 20f, 88f, 100f, 1e4f, 1e20f,
        Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN
    };

    /** Fixed edge values followed by seeded random values across a wide range. */
    private static float[] inputs(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = Arrays.copyOf(SPECIAL, SPECIAL.length + 64);
        for (int i = SPECIAL.length; i < x.length; i++) {
            double magnitude = i % 2 == 0 ? random.nextDouble(-10, 10) : random.nextDouble(-50, 50);
            x[i] = (float) magnitude;
        }
        return x;
    }

    /** Double-precision definition of each function, independent of how the kernel computes it. */
    private static DoubleUnaryOperator reference(Unary function, float parameter) {
        return switch (function) {
            case NEG -> v -> -v;
            case EXP -> Math::exp;
            case LOG -> Math::log;
            case SQRT -> Math::sqrt;
            case TANH -> Math::tanh;
            case SIGMOID -> v -> 1.0 / (1.0 + Math.exp(-v));
            case RELU -> v -> Double.isNaN(v) ? v : v > 0 ? v : 0.0;
            case STEP -> v -> v > 0 ? 1.0 : 0.0;
            case POW -> v -> Math.pow(v, parameter);
            case GELU -> v -> v * normalCdf(v);
            case GELU_GRAD -> v -> normalCdf(v) + v * normalDensity(v);
        };
    }

    /** The standard normal density in double. */
    static double normalDensity(double x) {
        return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    }

    /**
     * The standard normal distribution function in double, to about 1e-10 relative: below
     * 0 from erfc(z), z = −x/√2, by its Taylor series for z below 2.5 and its continued fraction
     * above; above 0 as {@code 1 − Φ(−x)}.
     */
    static double normalCdf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x > 0) {
            return 1 - normalCdf(-x);
        }
        double z = -x / Math.sqrt(2);
        if (z < 2.5) {
            double term = z;
            double sum = z;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-20 * Math.abs(sum); n++) {
                term *= -z * z / n;
                sum += term / (2 * n + 1);
            }
            return 0.5 * (1 - 2 / Math.sqrt(Math.PI) * sum);
        }
        if (Double.isInfinite(z)) {
            return 0;
        }
        double fraction = z;
        for (int k = 400; k >= 1; k--) {
            fraction = z + k / 2.0 / fraction;
        }
        return 0.5 * Math.exp(-z * z) / Math.sqrt(Math.PI) / fraction;
    }

    @Test
    void normalCdfReferenceMatchesKnownValues() {
        assertEquals(0.5, normalCdf(0), 1e-16);
        assertEquals(0.15865525393145707, normalCdf(-1), 1e-15);
        assertEquals(0.0013498980316301035, normalCdf(-3), 1e-12 * 0.00135);
        assertEquals(0.0062096653257761331, normalCdf(-2.5), 1e-12 * 0.0062);
        assertEquals(2.866515718791939e-07, normalCdf(-5), 1e-12 * 2.9e-7);
        assertEquals(7.619853024160527e-24, normalCdf(-10), 1e-11 * 7.6e-24);
        assertEquals(0.9986501019683699, normalCdf(3), 1e-15);
    }

    /**
     * GELU and its derivative over a fine grid and the edge values: within {@value #GELU_ULPS}
     * ulps of the double definition (the derivative, which crosses 0 near −0.75, within that
     * many ulps of its larger term), including far into the negative tail where
     * {@code 1 + erf} would cancel.
     */
    @ParameterizedTest
    @EnumSource(value = Unary.class, names = {"GELU", "GELU_GRAD"})
    void geluMatchesDoubleReference(Unary function) {
        int n = 1 << 16;
        float[] x = Arrays.copyOf(inputs(function.ordinal()), SPECIAL.length + 64 + n);
        for (int i = 0; i < n; i++) {
            x[SPECIAL.length + 64 + i] = -16f + 24f * i / n;
        }
        float[] out = new float[x.length];
        ElementWise.apply(function, 0f, x, 0, out, 0, x.length);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            String label = function + "(" + x[i] + ")";
            if (Double.isInfinite(v) || Double.isNaN(v)) {
                boolean positiveGelu = function == Unary.GELU && v > 0;
                assertEquals(positiveGelu ? v : Double.NaN, out[i], label);
                continue;
            }
            double cdf = normalCdf(v);
            double expected = function == Unary.GELU ? v * cdf : cdf + v * normalDensity(v);
            double scale = function == Unary.GELU ? Math.abs(expected) : Math.max(cdf, Math.abs(v * normalDensity(v)));
            // Subnormal results lose relative precision: there the unit is 2^-136 (2^-10 of the smallest normal).
            double ulp = Math.max(Math.ulp((float) scale), Math.scalb(Float.MIN_NORMAL, -10));
            double error = Math.abs(out[i] - expected) / ulp;
            worst = Math.max(worst, error);
            if (!(error <= GELU_ULPS)) {
                fail(label + ": expected " + expected + " but was " + out[i] + " (" + error + " ulps)");
            }
        }
        assertTrue(worst > 0.5, "the check can fail: worst error " + worst + " ulps");
    }

    /** GELU's accuracy, in float ulps: see ElementWise.gelu. */
    private static final double GELU_ULPS = 6;

    @Test
    void geluLimits() {
        assertEquals(0f, ElementWise.gelu(0f));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(ElementWise.gelu(-0f)));
        assertEquals(0.5f, ElementWise.geluGrad(0f));
        assertEquals(1e4f, ElementWise.gelu(1e4f));
        assertEquals(1f, ElementWise.geluGrad(20f));
        assertEquals(0f, ElementWise.geluGrad(-20f));
        assertEquals(-0f, ElementWise.gelu(-20f));
        assertTrue(ElementWise.gelu(-5f) < -1.4e-6f && ElementWise.gelu(-5f) > -1.45e-6f,
                "gelu(-5) = x·Φ(x) ≈ -1.433e-6");
    }

    @ParameterizedTest
    @EnumSource(value = Unary.class, names = {"POW", "GELU", "GELU_GRAD"}, mode = EnumSource.Mode.EXCLUDE)
    void matchesDoubleReference(Unary function) {
        check(function, 0f, inputs(function.ordinal()));
    }

    @ParameterizedTest
    @ValueSource(floats = {2f, 1f, -1f, 0.5f, 3f})
    void powMatchesDoubleReference(float exponent) {
        check(Unary.POW, exponent, inputs(Float.floatToIntBits(exponent)));
    }

    @Test
    void powSquareIsExactProduct() {
        float[] x = inputs(3);
        float[] out = new float[x.length];
        ElementWise.apply(Unary.POW, 2f, x, 0, out, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i] * x[i], out[i], "x=" + x[i]);
        }
    }

    @Test
    void sigmoidDoesNotOverflowAtLargeMagnitudes() {
        float[] x = {-100f, 100f, -1e4f, 1e4f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        float[] out = new float[x.length];
        ElementWise.apply(Unary.SIGMOID, 0f, x, 0, out, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            assertFalse(Float.isNaN(out[i]), "sigmoid(" + x[i] + ") is NaN");
            assertTrue(out[i] >= 0f && out[i] <= 1f, "sigmoid(" + x[i] + ") = " + out[i]);
        }
        assertEquals(1f, out[1]);
        assertEquals(1f, out[5]);
        assertEquals(0f, out[4]);
        assertEquals(ElementWise.sigmoid(-100f), out[0]);
        assertEquals(0.5f, ElementWise.sigmoid(0f));
        assertEquals(0.5f, ElementWise.sigmoid(-0f));
    }

    @ParameterizedTest
    @EnumSource(Unary.class)
    void inPlaceEqualsOutOfPlace(Unary function) {
        float parameter = function == Unary.POW ? 3f : 0f;
        float[] x = inputs(100 + function.ordinal());
        float[] separate = new float[x.length];
        ElementWise.apply(function, parameter, x, 0, separate, 0, x.length);
        float[] inPlace = x.clone();
        ElementWise.apply(function, parameter, inPlace, 0, inPlace, 0, inPlace.length);
        assertArrayEquals(separate, inPlace, function.toString());
    }

    @ParameterizedTest
    @EnumSource(Unary.class)
    void inPlaceWithOffsetTouchesOnlyTheRange(Unary function) {
        float parameter = function == Unary.POW ? 0.5f : 0f;
        float[] x = inputs(200 + function.ordinal());
        int offset = 4;
        int n = x.length - 9;
        float[] expected = x.clone();
        ElementWise.apply(function, parameter, x, offset, expected, offset, n);
        float[] inPlace = x.clone();
        ElementWise.apply(function, parameter, inPlace, offset, inPlace, offset, n);
        assertArrayEquals(expected, inPlace, function.toString());
        assertArrayEquals(Arrays.copyOf(x, offset), Arrays.copyOf(inPlace, offset), "before range");
        assertArrayEquals(Arrays.copyOfRange(x, offset + n, x.length),
                Arrays.copyOfRange(inPlace, offset + n, x.length), "after range");
    }

    @ParameterizedTest
    @EnumSource(Unary.class)
    void zeroCountWritesNothing(Unary function) {
        float[] x = {1f, 2f};
        float[] out = {SENTINEL, SENTINEL};
        ElementWise.apply(function, 2f, x, 0, out, 0, 0);
        assertArrayEquals(new float[] {SENTINEL, SENTINEL}, out);
    }

    @Test
    void fillSetsOnlyTheRange() {
        float[] out = {1f, 2f, 3f, 4f, 5f};
        ElementWise.fill(out, 1, 3, -7f);
        assertArrayEquals(new float[] {1f, -7f, -7f, -7f, 5f}, out);
    }

    /** Applies with distinct input and output offsets and compares each element within two float ulps. */
    private static void check(Unary function, float parameter, float[] values) {
        int xOffset = 3;
        int outOffset = 5;
        float[] x = new float[xOffset + values.length + 2];
        Arrays.fill(x, Float.NaN);
        System.arraycopy(values, 0, x, xOffset, values.length);
        float[] out = new float[outOffset + values.length + 2];
        Arrays.fill(out, SENTINEL);
        ElementWise.apply(function, parameter, x, xOffset, out, outOffset, values.length);

        DoubleUnaryOperator reference = reference(function, parameter);
        for (int i = 0; i < values.length; i++) {
            double expected = reference.applyAsDouble(values[i]);
            float actual = out[outOffset + i];
            String label = function + "(" + values[i] + (function == Unary.POW ? ", " + parameter : "") + ")";
            if (Double.isNaN(expected) || Float.isNaN(actual)) {
                if (Double.isNaN(expected) != Float.isNaN(actual)) {
                    fail(label + ": expected " + expected + " but was " + actual);
                }
                continue;
            }
            float rounded = (float) expected;
            if (Float.isInfinite(rounded) || Float.isInfinite(actual)) {
                assertEquals(rounded, actual, label);
                continue;
            }
            double tolerance = 2.0 * Math.ulp(rounded);
            if (!(Math.abs(actual - expected) <= tolerance)) {
                fail(label + ": expected " + expected + " but was " + actual + " (tolerance " + tolerance + ")");
            }
        }
        for (int i = 0; i < outOffset; i++) {
            assertEquals(SENTINEL, out[i], "output before range");
        }
        for (int i = outOffset + values.length; i < out.length; i++) {
            assertEquals(SENTINEL, out[i], "output after range");
        }
    }

    /**
     * Many arrays filled together: sizes around the threads' ranges (ends that fall inside an
     * array, on its edge, and on empty arrays), small sets that stay on the calling thread, and
     * a GPT's gradients (809,856 floats in 52 arrays).
     */
    @ParameterizedTest(name = "sizes {0}")
    @ValueSource(strings = {"0", "5 0 7", "65536 0 0 1 70000 0", "32768 32768 32768 0 64 63 100000",
            "1 2 3 4 5 6 7 8 9 10 200000", "gpt"})
    void manyArraysAreFilledEndToEnd(String spec) {
        int[] sizes = spec.equals("gpt") ? gptSizes() : Arrays.stream(spec.split(" ")).mapToInt(Integer::parseInt).toArray();
        float[][] arrays = new float[sizes.length][];
        for (int k = 0; k < sizes.length; k++) {
            arrays[k] = new float[sizes[k]];
            Arrays.fill(arrays[k], SENTINEL);
        }
        ElementWise.fill(arrays.length, k -> arrays[k], 0.25f);
        for (int k = 0; k < arrays.length; k++) {
            for (int i = 0; i < arrays[k].length; i++) {
                if (arrays[k][i] != 0.25f) {
                    fail("array " + k + " of " + sizes[k] + ", element " + i + ": " + arrays[k][i]);
                }
            }
        }
    }

    /** The default GPT's parameter sizes (4 blocks of width 128, 65 characters, context 64). */
    private static int[] gptSizes() {
        int[] block = {128, 128, 128 * 384, 384, 128 * 128, 128, 128, 128, 128 * 512, 512, 512 * 128, 128};
        int[] sizes = new int[2 + 4 * block.length + 2];
        sizes[0] = 65 * 128;
        sizes[1] = 64 * 128;
        for (int b = 0; b < 4; b++) {
            System.arraycopy(block, 0, sizes, 2 + b * block.length, block.length);
        }
        sizes[sizes.length - 2] = 128;
        sizes[sizes.length - 1] = 128;
        return sizes;
    }
}
