package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AxisReductionsTest {

    private static float[] random(long seed, int size, double bound) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) random.nextDouble(-bound, bound);
        }
        return x;
    }

    private static int at(int o, int l, int i, int length, int inner) {
        return (o * length + l) * inner + i;
    }

    @Test
    void onManyLanesANanWinsAndStaysAndTheFirstMaximumIsMarked() {
        int inner = 20;
        float[] x = new float[3 * inner];
        Arrays.fill(x, 0, inner, 1f);
        Arrays.fill(x, inner, 2 * inner, 1f);          // ties with row 0: row 0 keeps it
        Arrays.fill(x, 2 * inner, 3 * inner, 5f);
        x[inner + 4] = Float.NaN;                       // lane 4: NaN at row 1 beats the 5 of row 2
        float[] values = new float[inner];
        float[] mask = new float[x.length];
        VectorKernels.INSTANCE.max(x, 1, 3, inner, values, mask);
        for (int i = 0; i < inner; i++) {
            int row = i == 4 ? 1 : 2;
            assertEquals(i == 4 ? Float.NaN : 5f, values[i], "lane " + i);
            for (int l = 0; l < 3; l++) {
                assertEquals(l == row ? 1f : 0f, mask[l * inner + i], "mask of lane " + i + " row " + l);
            }
        }
    }

    @ParameterizedTest(name = "vector max, outer={0} length={1} inner={2}")
    @CsvSource({"1, 1, 40", "2, 4, 16", "3, 9, 33", "1, 2, 100", "4, 4, 196", "2, 3, 7", "5, 25, 8"})
    void theVectorMaxGivesTheScalarBits(int outer, int length, int inner) {
        float[] x = random(outer * 7L + length * 3L + inner, outer * length * inner, 3);
        for (int i = 0; i < x.length; i++) {
            x[i] = i % 37 == 5 ? Float.NaN : i % 11 == 3 ? -0f : Math.round(x[i]);   // ties, NaN, signed zeros
        }
        float[] expectedValues = new float[outer * inner];
        float[] expectedMask = new float[x.length];
        AxisReductions.max(x, outer, length, inner, expectedValues, expectedMask);
        float[] values = new float[outer * inner];
        float[] mask = new float[x.length];
        Arrays.fill(mask, 7f);
        VectorKernels.INSTANCE.max(x, outer, length, inner, values, mask);
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(expectedValues[i]), Float.floatToRawIntBits(values[i]), "value " + i);
        }
        assertArrayEquals(expectedMask, mask, "mask");
        float[] withoutMask = new float[outer * inner];
        VectorKernels.INSTANCE.max(x, outer, length, inner, withoutMask, null);
        assertArrayEquals(values, withoutMask, "values without a mask");
    }

    @ParameterizedTest(name = "outer={0} length={1} inner={2}")
    @CsvSource({"1, 1, 1", "1, 9, 1", "3, 5, 4", "2, 1, 3", "4, 7, 1", "1, 6, 5", "3, 17, 2",
            // Many lanes (pooling windows)
            "2, 4, 16", "3, 9, 33", "1, 2, 100", "5, 1, 20"})
    void maxMatchesReferenceWithGarbagePrefilledOutputs(int outer, int length, int inner) {
        // Rounding to a coarse grid forces ties between lanes' elements.
        float[] x = random(outer * 100L + length * 10L + inner, outer * length * inner, 4);
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.round(x[i]);
        }
        float[] values = new float[outer * inner];
        float[] mask = new float[x.length];
        Arrays.fill(values, Float.NaN);
        Arrays.fill(mask, 7f);

        AxisReductions.max(x, outer, length, inner, values, mask);

        float[] expectedValues = new float[values.length];
        float[] expectedMask = new float[mask.length];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int best = 0;
                for (int l = 1; l < length; l++) {
                    if (x[at(o, l, i, length, inner)] > x[at(o, best, i, length, inner)]) {
                        best = l;
                    }
                }
                expectedValues[o * inner + i] = x[at(o, best, i, length, inner)];
                expectedMask[at(o, best, i, length, inner)] = 1f;
            }
        }
        assertArrayEquals(expectedValues, values, "values");
        assertArrayEquals(expectedMask, mask, "mask");

        float[] valuesOnly = new float[values.length];
        AxisReductions.max(x, outer, length, inner, valuesOnly, null);
        assertArrayEquals(expectedValues, valuesOnly, "values without mask");
    }

    @Test
    void maxTiesGoToFirstElement() {
        // outer 2, length 4, inner 2: lane (o, i) reads x[(o*4 + l)*2 + i].
        float[] x = {
            1f, 5f,
            3f, 5f,
            3f, 2f,
            2f, 5f,

            -1f, 0f,
            -1f, -0f,
            -1f, 0f,
            -2f, 0f
        };
        float[] values = new float[4];
        float[] mask = new float[x.length];
        AxisReductions.max(x, 2, 4, 2, values, mask);
        assertArrayEquals(new float[] {3f, 5f, -1f, 0f}, values);
        assertArrayEquals(new float[] {
            0f, 1f,
            1f, 0f,
            0f, 0f,
            0f, 0f,

            1f, 1f,
            0f, 0f,
            0f, 0f,
            0f, 0f
        }, mask);
    }

    @Test
    void maxLetsFirstNaNWin() {
        float nan = Float.NaN;
        // length 4, inner 3: NaN first, NaN in the middle twice, no NaN.
        float[] x = {
            nan, 1f, 1f,
            2f, nan, 9f,
            3f, 4f, 2f,
            1f, nan, 3f
        };
        float[] values = new float[3];
        float[] mask = new float[x.length];
        AxisReductions.max(x, 1, 4, 3, values, mask);
        assertTrue(Float.isNaN(values[0]));
        assertTrue(Float.isNaN(values[1]));
        assertEquals(9f, values[2]);
        assertArrayEquals(new float[] {
            1f, 0f, 0f,
            0f, 1f, 1f,
            0f, 0f, 0f,
            0f, 0f, 0f
        }, mask);
    }

    @Test
    void maxOfInfinities() {
        float inf = Float.POSITIVE_INFINITY;
        float[] x = {-inf, -inf, -inf, inf, 1f, inf};
        float[] values = new float[2];
        float[] mask = new float[6];
        AxisReductions.max(x, 2, 3, 1, values, mask);
        assertArrayEquals(new float[] {-inf, inf}, values);
        assertArrayEquals(new float[] {1f, 0f, 0f, 1f, 0f, 0f}, mask);
    }

    @ParameterizedTest(name = "outer={0} length={1} inner={2} scale={3}")
    @CsvSource({"1, 1, 1, 1", "1, 10, 1, 1", "3, 7, 4, 5", "2, 33, 3, 30", "5, 2, 1, 0.01", "2, 64, 2, 100"})
    void softmaxMatchesDoubleReference(int outer, int length, int inner, double scale) {
        float[] x = random(outer * 1000L + length * 10L + inner, outer * length * inner, scale);
        checkSoftmax(x, outer, length, inner);
    }

    @Test
    void softmaxIsStableForLargeInputs() {
        float[] x = {1000f, 1000f, 999f, 1001f, -1000f, -999f, -1000f, -1001f};
        checkSoftmax(x, 2, 4, 1);
        float[] shifted = {0f, 0f, -1f, 1f};
        float[] expected = new float[4];
        AxisReductions.softmax(shifted, 1, 4, 1, false, expected);
        float[] out = new float[8];
        AxisReductions.softmax(x, 2, 4, 1, false, out);
        assertArrayEquals(expected, Arrays.copyOf(out, 4), 1e-7f, "softmax is shift invariant");
    }

    @Test
    void softmaxGivesNegativeInfinityEntriesZeroWeight() {
        float inf = Float.POSITIVE_INFINITY;
        // length 3, inner 2: lane 0 is [0, -inf, 1], lane 1 is [-inf, 2, -inf].
        float[] x = {0f, -inf, -inf, 2f, 1f, -inf};
        float[] probabilities = new float[6];
        float[] logProbabilities = new float[6];
        AxisReductions.softmax(x, 1, 3, 2, false, probabilities);
        AxisReductions.softmax(x, 1, 3, 2, true, logProbabilities);

        double e = Math.exp(-1);
        assertArrayEquals(new float[] {(float) (e / (1 + e)), 0f, 0f, 1f, (float) (1 / (1 + e)), 0f},
                probabilities, 1e-7f);
        assertEquals(-inf, logProbabilities[1]);
        assertEquals(-inf, logProbabilities[2]);
        assertEquals(-inf, logProbabilities[5]);
        assertEquals(0f, logProbabilities[3]);
        assertEquals(-1 - Math.log1p(e), logProbabilities[0], 1e-6);
        assertEquals(-Math.log1p(e), logProbabilities[4], 1e-7);
    }

    /**
     * Softmax rows split across the kernel threads (the GPT's loss: 768 rows of 65; a wide
     * inner axis; rows too short to split) give each provider's bits of all rows on one thread.
     */
    @ParameterizedTest(name = "{0}: outer {1}, length {2}, inner {3}")
    @CsvSource({"vector, 768, 65, 1", "scalar, 768, 65, 1", "vector, 40, 30, 50", "scalar, 40, 30, 50",
            "vector, 3, 5, 1", "vector, 2000, 8, 1"})
    void softmaxSplitAcrossThreadsGivesTheOneThreadBits(String provider, int outer, int length, int inner) {
        float[] x = random(outer * 131L + length, outer * length * inner, 12);
        for (boolean log : new boolean[] {false, true}) {
            float[] split = new float[x.length];
            KernelProvider.named(provider).softmax(x, outer, length, inner, log, split);
            float[] whole = new float[x.length];
            if (provider.equals("vector")) {
                VectorReductions.softmax(x, 0, outer, length, inner, log, whole);
            } else {
                AxisReductions.softmax(x, 0, outer, length, inner, log, whole);
            }
            for (int i = 0; i < x.length; i++) {
                if (Float.floatToRawIntBits(split[i]) != Float.floatToRawIntBits(whole[i])) {
                    fail(provider + (log ? " log-softmax" : " softmax") + " element " + i + ": " + split[i]
                            + " split, " + whole[i] + " on one thread");
                }
            }
        }
    }

    /** The loss's gradient on the GPT's 768 rows of 65, split across the kernel threads, row by row as defined. */
    @Test
    void crossEntropyGradientSplitAcrossThreadsIsTheFormulaInEveryRow() {
        int rows = 768;
        int cols = 65;
        float[] logProbabilities = new float[rows * cols];
        VectorKernels.INSTANCE.softmax(random(5, rows * cols, 8), rows, cols, 1, true, logProbabilities);
        float[] labels = new float[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = (r * 7) % cols;
        }
        float scale = 1f / rows;
        float[] out = new float[rows * cols];
        Arrays.fill(out, Float.NaN);
        Fused.crossEntropyGrad(logProbabilities, labels, rows, cols, scale, out);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float expected = scale * (float) Math.exp(logProbabilities[r * cols + c]);
                if (c == (int) labels[r]) {
                    expected -= scale;
                }
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[r * cols + c]),
                        "row " + r + ", column " + c);
            }
        }
    }

    /** A label outside the classes is named, and nothing written (it would have landed in another row). */
    @Test
    void crossEntropyGradientRefusesALabelOutsideTheClasses() {
        float[] logProbabilities = new float[3 * 4];
        float[] out = new float[3 * 4];
        for (float label : new float[] {4f, -1f, 1.5f, Float.NaN}) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> Fused.crossEntropyGrad(logProbabilities, new float[] {0f, label, 2f}, 3, 4, 1f, out));
            assertTrue(e.getMessage().contains("label " + label + " of row 1"), e.getMessage());
            assertArrayEquals(new float[3 * 4], out);
        }
    }

    /** Compares both modes with a double reference, then checks rows sum to 1 and logsumexp is 0. */
    private static void checkSoftmax(float[] x, int outer, int length, int inner) {
        float[] probabilities = new float[x.length];
        float[] logProbabilities = new float[x.length];
        Arrays.fill(probabilities, Float.NaN);
        Arrays.fill(logProbabilities, Float.NaN);
        AxisReductions.softmax(x, outer, length, inner, false, probabilities);
        AxisReductions.softmax(x, outer, length, inner, true, logProbabilities);

        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int l = 0; l < length; l++) {
                    max = Math.max(max, x[at(o, l, i, length, inner)]);
                }
                double sum = 0.0;
                for (int l = 0; l < length; l++) {
                    sum += Math.exp(x[at(o, l, i, length, inner)] - max);
                }
                double logSum = max + Math.log(sum);
                double probabilitySum = 0.0;
                double expSum = 0.0;
                for (int l = 0; l < length; l++) {
                    int index = at(o, l, i, length, inner);
                    double expectedLog = x[index] - logSum;
                    // The kernel forms x - max in float, which costs one rounding of |x - max|.
                    double logTolerance = 2e-7 * (Math.abs(expectedLog) + Math.abs(x[index] - max)) + 1e-7;
                    assertWithin(expectedLog, logProbabilities[index], logTolerance, "log-softmax at " + index);
                    double expected = Math.exp(expectedLog);
                    assertWithin(expected, probabilities[index], expected * logTolerance * 2 + 1e-9,
                            "softmax at " + index);
                    probabilitySum += probabilities[index];
                    expSum += Math.exp(logProbabilities[index]);
                }
                assertEquals(1.0, probabilitySum, 1e-6 * length, "softmax lane sum");
                assertEquals(0.0, Math.log(expSum), 1e-6 * length, "log-softmax lane logsumexp");
            }
        }
    }

    private static void assertWithin(double expected, float actual, double tolerance, String label) {
        if (!(Math.abs(actual - expected) <= tolerance)) {
            fail(label + ": expected " + expected + " but was " + actual + " (tolerance " + tolerance + ")");
        }
    }
}
