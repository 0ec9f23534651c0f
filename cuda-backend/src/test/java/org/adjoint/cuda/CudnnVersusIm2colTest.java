package org.adjoint.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * On a device, the convolutions through cuDNN (where {@code libcudnn.so.9} loaded) against the
 * same device's im2col + cuBLAS path, on the shapes of {@code ConvolutionConformance} (and of
 * the reference cases' kinds: groups, stride, padding, dilation) and on the CNN's layers at a
 * training batch; and each cuDNN result the same to the bit when computed again (the backward
 * algorithms must be deterministic). Where cuDNN did not load, both sides are the im2col path
 * and the comparison is trivially true: the log line and {@link #path()} say which ran.
 */
@Tag("gpu")
class CudnnVersusIm2colTest {

    private static final CudaBackend CUDNN = new CudaBackend();
    private static final CudaBackend IM2COL = CudaBackend.im2colOnly();

    /** {stride, padding, dilation, groups, N, C, H, W, O, kH, kW}. */
    private static final int[][] SHAPES = {
        // ConvolutionConformance's CONFIGS.
        {1, 1, 1, 1, 2, 2, 4, 5, 3, 3, 3},
        {2, 1, 1, 1, 1, 3, 5, 4, 2, 2, 3},
        {1, 2, 2, 2, 2, 4, 3, 4, 2, 2, 2},
        {1, 1, 1, 3, 1, 3, 4, 4, 6, 3, 3},
        {1, 0, 1, 1, 2, 3, 3, 4, 2, 1, 1},
        {3, 2, 1, 1, 1, 2, 5, 5, 2, 3, 2},
        {1, 1, 1, 1, 2, 4, 4, 5, 4, 3, 3},
        {1, 3, 1, 2, 1, 8, 3, 4, 8, 2, 2},
        // Depthwise, and a strided dilated window with padding past its span.
        {1, 1, 1, 8, 3, 8, 9, 9, 8, 3, 3},
        {2, 4, 3, 1, 2, 5, 11, 13, 7, 3, 2},
        // The Fashion-MNIST CNN's two layers and a ResNet block's convolution at batch 64.
        {1, 1, 1, 1, 64, 1, 28, 28, 32, 3, 3},
        {1, 1, 1, 1, 64, 32, 14, 14, 64, 3, 3},
        {1, 1, 1, 1, 64, 32, 14, 14, 32, 3, 3},
        {2, 1, 1, 1, 64, 32, 14, 14, 64, 3, 3},
    };

    /** What this instance runs, for the report. */
    static String path() {
        return CUDNN.convolutionPath();
    }

    @Test
    void cudnnMatchesIm2colAndRepeatsItsBits() {
        System.out.println("convolution: " + path());
        long fallbacksBefore = CUDNN.cudnnFallbacks();
        long seed = 11;
        for (int[] s : SHAPES) {
            ConvGeometry geometry = new ConvGeometry(s[5], s[6], s[7], s[9], s[10], s[0], s[1], s[2]);
            int images = s[4];
            int outputs = s[8];
            int groups = s[3];
            String label = "N=" + images + " O=" + outputs + " groups " + groups + ", " + geometry;
            float[] x = random(images * (int) geometry.imageSize(), seed++);
            float[] w = random(outputs * (int) (geometry.columnRows() / groups), seed++);
            float[] dy = random(images * outputs * (int) geometry.columnCols(), seed++);
            for (int direction = 0; direction < 3; direction++) {
                float[] expected = run(IM2COL, direction, geometry, images, outputs, groups, x, w, dy);
                float[] first = run(CUDNN, direction, geometry, images, outputs, groups, x, w, dy);
                float[] again = run(CUDNN, direction, geometry, images, outputs, groups, x, w, dy);
                String what = List.of("conv2d", "conv2dInputGrad", "conv2dWeightGrad").get(direction) + " " + label;
                assertNear(expected, first, what);
                for (int i = 0; i < first.length; i++) {
                    if (Float.floatToIntBits(first[i]) != Float.floatToIntBits(again[i])) {
                        fail(what + ": element " + i + " was " + first[i] + " and then " + again[i]
                                + " (a non-deterministic algorithm)");
                    }
                }
            }
        }
        if (path().startsWith("cuDNN")) {
            // Else some calls compared im2col with itself: the log's WARNING line says why.
            assertEquals(fallbacksBefore, CUDNN.cudnnFallbacks(), "convolutions that took the im2col path instead of cuDNN");
        }
    }

    /** One direction on one backend: 0 the output, 1 the input gradient, 2 the weight gradient. */
    private static float[] run(CudaBackend backend, int direction, ConvGeometry geometry, int images, int outputs,
                               int groups, float[] x, float[] w, float[] dy) {
        List<Buffer> buffers = new ArrayList<>();
        try {
            Buffer input = keep(buffers, backend.upload(x));
            Buffer weight = keep(buffers, backend.upload(w));
            Buffer gradient = keep(buffers, backend.upload(dy));
            Buffer result = switch (direction) {
                case 0 -> keep(buffers, backend.allocate(dy.length));
                case 1 -> keep(buffers, backend.allocate(x.length));
                default -> keep(buffers, backend.allocate(w.length));
            };
            backend.fill(result, Float.NaN);
            switch (direction) {
                case 0 -> backend.conv2d(input, weight, geometry, images, outputs, groups, result);
                case 1 -> backend.conv2dInputGrad(gradient, weight, geometry, images, outputs, groups, result);
                default -> backend.conv2dWeightGrad(input, gradient, geometry, images, outputs, groups, result);
            }
            return backend.download(result);
        } finally {
            buffers.forEach(backend::release);
        }
    }

    private static Buffer keep(List<Buffer> buffers, Buffer buffer) {
        buffers.add(buffer);
        return buffer;
    }

    /** Float32 sums in two orders: within 1e-4 of the largest magnitude (TF32 would be off by about 1e-3). */
    private static void assertNear(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 1;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        double tolerance = 1e-4 * scale;
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tolerance)) {
                fail(what + ", element " + i + ": im2col " + expected[i] + ", cuDNN " + actual[i] + " (tolerance "
                        + tolerance + ")");
            }
        }
    }

    private static float[] random(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (2 * random.nextDouble() - 1);
        }
        return values;
    }
}
