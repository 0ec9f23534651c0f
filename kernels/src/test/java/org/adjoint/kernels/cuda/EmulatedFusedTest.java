package org.adjoint.kernels.cuda;

import static org.adjoint.kernels.cuda.EmulatorSupport.LAUNCHES;
import static org.adjoint.kernels.cuda.EmulatorSupport.RELATIVE;
import static org.adjoint.kernels.cuda.EmulatorSupport.assertBits;
import static org.adjoint.kernels.cuda.EmulatorSupport.assertClose;
import static org.adjoint.kernels.cuda.EmulatorSupport.check;
import static org.adjoint.kernels.cuda.EmulatorSupport.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.adjoint.kernels.Fused;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fused layer-tail device kernels ({@code bias_activation}, {@code activation_grad},
 * {@code nll}, {@code cross_entropy_grad}) on the emulator against {@link Fused}.
 */
class EmulatedFusedTest {

    @RegisterExtension
    static final EmulatorSupport EMULATOR = new EmulatorSupport();

    @Test
    void biasActivationAndItsGradientMatchFused() throws IOException {
        int[][] sizes = {{3, 5}, {1, 1}, {4, 33}, {0, 5}};
        for (int[] size : sizes) {
            int rows = size[0];
            int cols = size[1];
            float[] y = random(rows * cols, 10, -5, 5);
            if (y.length > 0) {
                y[0] = -0f;
            }
            float[] bias = random(cols, 11, -1, 1);
            for (Fused.Activation act : Fused.Activation.values()) {
                boolean exact = act == Fused.Activation.IDENTITY || act == Fused.Activation.RELU;
                for (boolean withBias : new boolean[] {true, false}) {
                    float[] expected = y.clone();
                    Fused.biasActivation(act, expected, withBias ? bias : null, rows, cols);
                    String what = "bias_activation " + act + " " + rows + "x" + cols + (withBias ? "" : " no bias");
                    for (int[] launch : LAUNCHES) {
                        List<float[]> result = EMULATOR.launch("bias_activation", launch[0], launch[1], act.ordinal(),
                                y, withBias ? bias : HostEmulator.NULL, rows, cols);
                        check(exact, expected, result.get(0), what);
                    }
                }
                float[] outputs = y.clone();
                Fused.biasActivation(act, outputs, bias, rows, cols);
                float[] cotangent = random(outputs.length, 12, -2, 2);
                float[] expected = new float[outputs.length];
                Fused.activationGrad(act, outputs, cotangent, expected, outputs.length);
                EMULATOR.assertBitsOnEveryLaunch(expected, 2, "activation_grad " + act, "activation_grad",
                        act.ordinal(), outputs, cotangent, new float[outputs.length], (long) outputs.length);
                List<float[]> inPlace = EMULATOR.launch("activation_grad", 1, 32, act.ordinal(), outputs, cotangent,
                        new HostEmulator.Alias(1), (long) outputs.length);
                assertBits(expected, inPlace.get(1), "activation_grad " + act + " into the cotangent");
            }
        }
    }

    @Test
    void nllSumsDeterministicallyInOneBlock() throws IOException {
        int cols = 10;
        int[][] launches = {{1, 1}, {1, 32}, {1, 100}, {1, 256}, {2, 256}};
        for (int rows : new int[] {0, 1, 7, 300, 1000}) {
            float[] logp = random(rows * cols, 13, -8, 0);
            float[] labels = labels(rows, cols, 14);
            float expected = Fused.meanNegativeLogLikelihood(logp, labels, rows, cols);
            for (int[] launch : launches) {
                List<float[]> result = EMULATOR.launch("nll", launch[0], launch[1], logp, labels, rows, cols,
                        new float[1]);
                assertClose(new float[] {expected}, result.get(2), RELATIVE,
                        "nll rows=" + rows + " launch " + Arrays.toString(launch));
            }
        }
        float[] badLabel = {3f, 10f};
        List<float[]> result = EMULATOR.launch("nll", 1, 256, random(2 * cols, 15, -8, 0), badLabel, 2, cols,
                new float[1]);
        assertEquals(Float.NaN, result.get(2)[0], "a label outside [0, cols) gives NaN, not a stray read");
    }

    @Test
    void crossEntropyGradMatchesFused() throws IOException {
        int cols = 10;
        for (int rows : new int[] {0, 1, 7, 130}) {
            float[] logp = random(rows * cols, 16, -8, 0);
            float[] labels = labels(rows, cols, 17);
            float scale = 0.37f / Math.max(rows, 1);
            float[] expected = new float[rows * cols];
            Fused.crossEntropyGrad(logp, labels, rows, cols, scale, expected);
            for (int[] launch : LAUNCHES) {
                List<float[]> result = EMULATOR.launch("cross_entropy_grad", launch[0], launch[1], logp, labels, rows,
                        cols, scale, HostEmulator.NULL, new float[rows * cols]);
                assertClose(expected, result.get(2), RELATIVE, "cross_entropy_grad rows=" + rows);
                // The scale read on the device from the loss's cotangent: 0.37 / rows, the same float
                // as the host's scale (for rows > 0), and the scale argument ignored.
                List<float[]> read = EMULATOR.launch("cross_entropy_grad", launch[0], launch[1], logp, labels, rows,
                        cols, -5f, new float[] {0.37f}, new float[rows * cols]);
                assertBits(result.get(2), read.get(3), "cross_entropy_grad with the cotangent, rows=" + rows);
            }
        }
        List<float[]> result = EMULATOR.launch("cross_entropy_grad", 1, 32, random(2 * cols, 18, -8, 0),
                new float[] {-1f, 2f}, 2, cols, 1f, HostEmulator.NULL, new float[2 * cols]);
        for (int c = 0; c < cols; c++) {
            assertEquals(Float.NaN, result.get(2)[c], "a label outside [0, cols) makes its row NaN");
        }
        // A fraction or NaN, where Fused.crossEntropyGrad throws: NaN rows too, not class 2 or class 0.
        List<float[]> fractions = EMULATOR.launch("cross_entropy_grad", 1, 32, random(3 * cols, 19, -8, 0),
                new float[] {2.5f, Float.NaN, 1f}, 3, cols, 1f, HostEmulator.NULL, new float[3 * cols]);
        for (int c = 0; c < 2 * cols; c++) {
            assertEquals(Float.NaN, fractions.get(2)[c], "a label that is not a whole number makes its row NaN");
        }
        for (int c = 2 * cols; c < 3 * cols; c++) {
            assertTrue(Float.isFinite(fractions.get(2)[c]), "the whole label's row stays finite");
        }
    }

    private static float[] labels(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] labels = new float[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = random.nextInt(cols);
        }
        return labels;
    }
}
