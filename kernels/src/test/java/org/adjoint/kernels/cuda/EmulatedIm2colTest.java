package org.adjoint.kernels.cuda;

import static org.adjoint.kernels.cuda.EmulatorSupport.assertBits;
import static org.adjoint.kernels.cuda.EmulatorSupport.random;
import static org.adjoint.kernels.cuda.EmulatorSupport.spreadOverBinades;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.adjoint.kernels.Im2col;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The convolution window device kernels ({@code im2col}, {@code col2im}) on the emulator
 * against {@link Im2col}: windows with padding, strides and dilation, and sums in the CPU's
 * order.
 */
class EmulatedIm2colTest {

    @RegisterExtension
    static final EmulatorSupport EMULATOR = new EmulatorSupport();

    /**
     * {channels, height, width, kh, kw, stride, padding, dilation, images}: padding, strides,
     * dilation, odd sizes, windows wider than the image, all padding, no images, more work than a block.
     */
    private static final int[][] WINDOWS = {
        {1, 4, 4, 3, 3, 1, 0, 1, 1}, {3, 7, 6, 3, 3, 1, 1, 1, 2}, {2, 9, 8, 3, 2, 2, 1, 1, 3}, {2, 7, 9, 3, 3, 3, 2, 1, 2},
        {3, 11, 10, 3, 3, 1, 2, 2, 1}, {2, 8, 7, 2, 3, 2, 3, 3, 2}, {1, 2, 2, 5, 5, 1, 2, 1, 1}, {2, 0, 3, 1, 2, 1, 1, 1, 2},
        {2, 5, 5, 3, 3, 1, 1, 1, 0}, {4, 12, 13, 3, 3, 1, 1, 1, 2}};

    @Test
    void im2colMatchesIm2col() throws IOException {
        for (int[] g : WINDOWS) {
            int outH = (g[1] + 2 * g[6] - g[7] * (g[3] - 1) - 1) / g[5] + 1;
            int outW = (g[2] + 2 * g[6] - g[7] * (g[4] - 1) - 1) / g[5] + 1;
            float[] in = random(g[8] * g[0] * g[1] * g[2], 24, -3, 3);
            float[] stale = new float[g[8] * g[0] * g[3] * g[4] * outH * outW];
            Arrays.fill(stale, 123f);
            for (float pad : new float[] {0f, Float.NEGATIVE_INFINITY}) {
                float[] expected = new float[stale.length];
                Im2col.im2col(in, 0, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], pad, expected, 0);
                EMULATOR.assertBitsOnEveryLaunch(expected, 1, "im2col " + Arrays.toString(g) + " pad " + pad, "im2col",
                        in, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], pad, stale);
            }
        }
    }

    @Test
    void col2imSumsInTheCpuOrder() throws IOException {
        for (int[] g : WINDOWS) {
            int outH = (g[1] + 2 * g[6] - g[7] * (g[3] - 1) - 1) / g[5] + 1;
            int outW = (g[2] + 2 * g[6] - g[7] * (g[4] - 1) - 1) / g[5] + 1;
            float[] cols = spreadOverBinades(g[8] * g[0] * g[3] * g[4] * outH * outW, 25);
            float[] stale = random(g[8] * g[0] * g[1] * g[2], 26, -1, 1);
            float[] expected = stale.clone();
            Im2col.col2im(cols, 0, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], expected, 0);
            EMULATOR.assertBitsOnEveryLaunch(expected, 1, "col2im " + Arrays.toString(g), "col2im", cols, g[0], g[1],
                    g[2], g[3], g[4], g[5], g[6], g[7], g[8], stale);
        }
        // A 1x1x5 image under a 1x3 window: element 2 gets 1, 1e8, -1e8 in that order, which sums to 0.
        List<float[]> result = EMULATOR.launch("col2im", 1, 32, new float[] {9f, 9f, 1f, 9f, 1e8f, 9f, -1e8f, 9f, 9f},
                1, 1, 5, 1, 3, 1, 0, 1, 1, new float[5]);
        assertBits(new float[] {9f, 18f, 0f, 18f, 9f}, result.get(1), "col2im of 1, 1e8, -1e8 into one element");
    }
}
