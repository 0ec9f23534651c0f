package org.adjoint.kernels.cuda;

import static org.adjoint.kernels.cuda.EmulatorSupport.LAUNCHES;
import static org.adjoint.kernels.cuda.EmulatorSupport.assertBits;
import static org.adjoint.kernels.cuda.EmulatorSupport.random;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import org.adjoint.kernels.Normalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The layer norm device kernels ({@code layer_norm}, {@code layer_norm_grad},
 * {@code layer_norm_grad_weight}) on the emulator against {@link Normalization}: the weight's
 * gradient adds in the scalar kernel's order, bit for bit; the rows' sums go over a block, so
 * the output, the saved statistics and the input's gradient agree within float rounding.
 */
class EmulatedNormalizationTest {

    @RegisterExtension
    static final EmulatorSupport EMULATOR = new EmulatorSupport();

    /** {rows, size}: one element, rows shorter and longer than a block, a row not a multiple of it. */
    private static final int[][] SHAPES = {{1, 1}, {3, 5}, {4, 300}, {2, 1031}};

    @Test
    void layerNormMatchesNormalization() throws IOException {
        for (int[] shape : SHAPES) {
            for (int affine = 0; affine < 4; affine++) {
                int rows = shape[0];
                int size = shape[1];
                boolean withWeight = (affine & 1) != 0;
                boolean withBias = (affine & 2) != 0;
                // Rows far from 0 (a mean of 40) keep the digits of their deviations in double.
                float[] x = random(rows * size, 11 + affine, 38, 42);
                float[] weight = random(size, 12, -2, 2);
                float[] bias = random(size, 13, -1, 1);
                float[] out = new float[rows * size];
                float[] mean = new float[rows];
                float[] rstd = new float[rows];
                Normalization.layerNorm(x, withWeight ? weight : null, withBias ? bias : null, rows, size, 1e-5f, out,
                        mean, rstd);
                int first = 1 + (withWeight ? 1 : 0) + (withBias ? 1 : 0);
                String what = "layer_norm " + Arrays.toString(shape) + (withWeight ? " weight" : "")
                        + (withBias ? " bias" : "");
                for (int[] launch : LAUNCHES) {
                    List<float[]> result = EMULATOR.launch("layer_norm", launch[0], launch[1], x,
                            withWeight ? weight : HostEmulator.NULL, withBias ? bias : HostEmulator.NULL, rows, size,
                            1e-5f, new float[rows * size], new float[rows], new float[rows]);
                    String at = what + " launch " + Arrays.toString(launch);
                    assertNear(out, result.get(first), 4e-6, at + ": output");
                    assertNear(mean, result.get(first + 1), 1e-7, at + ": mean");
                    assertNear(rstd, result.get(first + 2), 1e-6, at + ": rstd");
                }
            }
        }
    }

    @Test
    void layerNormGradientsMatchNormalization() throws IOException {
        for (int[] shape : SHAPES) {
            for (int withWeight = 0; withWeight < 2; withWeight++) {
                int rows = shape[0];
                int size = shape[1];
                float[] x = random(rows * size, 21, -3, 3);
                float[] weight = random(size, 22, -2, 2);
                float[] dy = random(rows * size, 23, -1, 1);
                float[] mean = new float[rows];
                float[] rstd = new float[rows];
                Normalization.layerNorm(x, null, null, rows, size, 1e-5f, new float[rows * size], mean, rstd);
                float[] dx = new float[rows * size];
                float[] dweight = new float[size];
                float[] scale = withWeight == 1 ? weight : null;
                Normalization.layerNormGrad(x, scale, mean, rstd, dy, rows, size, dx, dweight);
                String what = Arrays.toString(shape) + (withWeight == 1 ? " weight" : "");
                for (int[] launch : LAUNCHES) {
                    String at = what + " launch " + Arrays.toString(launch);
                    List<float[]> grad = EMULATOR.launch("layer_norm_grad", launch[0], launch[1], x,
                            scale == null ? HostEmulator.NULL : scale, mean, rstd, dy, rows, size, new float[rows * size]);
                    assertNear(dx, grad.get(scale == null ? 4 : 5), 1e-5, "layer_norm_grad " + at);
                    List<float[]> weightGrad = EMULATOR.launch("layer_norm_grad_weight", launch[0], launch[1], x, mean,
                            rstd, dy, rows, size, rows, new float[size]);
                    assertBits(dweight, weightGrad.get(4), "layer_norm_grad_weight " + at);
                    // Parts of two rows: each part's column sum in row order, in float.
                    int parts = (rows + 1) / 2;
                    float[] partial = new float[parts * size];
                    for (int part = 0; part < parts; part++) {
                        for (int i = 0; i < size; i++) {
                            float sum = 0f;
                            for (int r = 2 * part; r < Math.min(rows, 2 * part + 2); r++) {
                                sum += dy[r * size + i] * ((x[r * size + i] - mean[r]) * rstd[r]);
                            }
                            partial[part * size + i] = sum;
                        }
                    }
                    List<float[]> partials = EMULATOR.launch("layer_norm_grad_weight", launch[0], launch[1], x, mean,
                            rstd, dy, rows, size, 2, new float[parts * size]);
                    assertBits(partial, partials.get(4), "layer_norm_grad_weight in parts of 2 rows " + at);
                }
            }
        }
    }

    /** Within {@code tolerance} of the largest expected magnitude: sums in another order move the last bits. */
    private static void assertNear(float[] expected, float[] actual, double tolerance, String what) {
        double largest = 0;
        for (float v : expected) {
            largest = Math.max(largest, Math.abs(v));
        }
        double allowed = tolerance * Math.max(1, largest);
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs((double) expected[i] - actual[i]);
            int index = i;
            assertTrue(error <= allowed, () -> what + ": element " + index + " is " + actual[index] + ", expected "
                    + expected[index]);
        }
    }
}
