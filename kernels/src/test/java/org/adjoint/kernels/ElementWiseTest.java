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
        };
    }

    @ParameterizedTest
    @EnumSource(value = Unary.class, names = "POW", mode = EnumSource.Mode.EXCLUDE)
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
}
