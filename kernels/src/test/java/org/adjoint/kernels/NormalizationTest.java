package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each provider's layer norm ({@link Normalization}, {@link VectorNormalization}) and its gradients against a double-precision
 * definition written independently (one row at a time, from the formulas), over odd row
 * lengths, with and without the weight and the bias, and rows far from zero mean.
 */
class NormalizationTest {

    private static float[] data(long seed, int n, double shift) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (shift + random.nextDouble(-2, 2));
        }
        return x;
    }

    private static void assertNear(double[] expected, float[] actual, double tolerance, String label) {
        assertEquals(expected.length, actual.length, label);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tolerance * Math.max(1, Math.abs(expected[i])))) {
                fail(label + ", element " + i + ": expected " + expected[i] + " but was " + actual[i]);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"scalar, 1, 1, true, true, 0", "scalar, 3, 7, true, true, 0", "scalar, 4, 128, true, false, 0",
        "scalar, 5, 33, false, true, 0", "scalar, 2, 5, false, false, 0", "scalar, 6, 131, true, true, 40",
        "scalar, 0, 9, true, true, 0", "vector, 1, 1, true, true, 0", "vector, 3, 7, true, true, 0",
        "vector, 4, 128, true, false, 0", "vector, 5, 33, false, true, 0", "vector, 2, 5, false, false, 0",
        "vector, 6, 131, true, true, 40", "vector, 0, 9, true, true, 0", "vector, 3, 16, true, true, -7"})
    void forwardAndGradientsMatchTheDefinition(String provider, int rows, int size, boolean hasWeight, boolean hasBias,
                                               double shift) {
        KernelProvider kernels = KernelProvider.named(provider);
        float eps = 1e-5f;
        float[] x = data(rows * 31L + size, rows * size, shift);
        float[] weight = hasWeight ? data(size + 1, size, 1) : null;
        float[] bias = hasBias ? data(size + 2, size, 0) : null;
        float[] dy = data(size + 3, rows * size, 0);
        double[] y = new double[rows * size];
        double[] dx = new double[rows * size];
        double[] dweight = new double[size];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < size; i++) {
                mean += x[r * size + i];
            }
            mean /= size;
            double variance = 0;
            for (int i = 0; i < size; i++) {
                variance += (x[r * size + i] - mean) * (x[r * size + i] - mean);
            }
            variance /= size;
            double rstd = 1 / Math.sqrt(variance + eps);
            double[] normalized = new double[size];
            double[] g = new double[size];
            double meanG = 0;
            double meanGx = 0;
            for (int i = 0; i < size; i++) {
                normalized[i] = (x[r * size + i] - mean) * rstd;
                y[r * size + i] = normalized[i] * (hasWeight ? weight[i] : 1) + (hasBias ? bias[i] : 0);
                g[i] = dy[r * size + i] * (hasWeight ? weight[i] : 1);
                meanG += g[i] / size;
                meanGx += g[i] * normalized[i] / size;
                dweight[i] += dy[r * size + i] * normalized[i];
            }
            for (int i = 0; i < size; i++) {
                dx[r * size + i] = rstd * (g[i] - meanG - normalized[i] * meanGx);
            }
        }
        float[] out = new float[rows * size];
        float[] mean = new float[rows];
        float[] rstd = new float[rows];
        kernels.layerNorm(x, weight, bias, rows, size, eps, out, mean, rstd);
        String label = provider + " " + rows + "x" + size;
        assertNear(y, out, 2e-6, label + " output");
        float[] gradX = new float[rows * size];
        float[] gradWeight = new float[size];
        java.util.Arrays.fill(gradWeight, Float.NaN);
        kernels.layerNormGrad(x, weight, mean, rstd, dy, rows, size, gradX, gradWeight);
        assertNear(dx, gradX, 1e-5, label + " input gradient");
        assertNear(dweight, gradWeight, 1e-5 * Math.sqrt(rows + 1), label + " weight gradient");
        // Each gradient alone is the same as both together.
        float[] onlyX = new float[rows * size];
        kernels.layerNormGrad(x, weight, mean, rstd, dy, rows, size, onlyX, null);
        assertArrayEquals(gradX, onlyX, label);
        float[] onlyWeight = new float[size];
        kernels.layerNormGrad(x, weight, mean, rstd, dy, rows, size, null, onlyWeight);
        assertArrayEquals(gradWeight, onlyWeight, label);
        // In place.
        float[] inPlace = x.clone();
        kernels.layerNorm(inPlace, weight, bias, rows, size, eps, inPlace, new float[rows], new float[rows]);
        assertArrayEquals(out, inPlace, label + " in place");
    }
}
