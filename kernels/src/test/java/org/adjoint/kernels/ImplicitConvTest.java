package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ImplicitConv} against the explicit columns of {@link Im2col}: the forward and the weight
 * gradient bit for bit against {@link PackedGemm} on the unfolded columns with the same tile
 * (the same chain of roundings), the input gradient against a double-precision col2im.
 */
class ImplicitConvTest {

    /** One convolution; the arrays are NCHW. */
    record Shape(int images, int channels, int height, int width, int outputs, int groups, int kernelHeight,
                 int kernelWidth, int stride, int padding, int dilation) {

        int outHeight() {
            return (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1;
        }

        int outWidth() {
            return (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1;
        }

        int rowsPerGroup() {
            return channels / groups * kernelHeight * kernelWidth;
        }

        int positions() {
            return outHeight() * outWidth();
        }

        @Override
        public String toString() {
            return images + "x" + channels + "x" + height + "x" + width + "->" + outputs + " g" + groups + " k"
                    + kernelHeight + "x" + kernelWidth + " s" + stride + " p" + padding + " d" + dilation;
        }
    }

    static List<Shape> shapes() {
        return List.of(
                new Shape(3, 1, 28, 28, 32, 1, 3, 3, 1, 1, 1),
                new Shape(4, 32, 14, 14, 64, 1, 3, 3, 1, 1, 1),
                new Shape(2, 6, 9, 11, 8, 2, 3, 2, 1, 2, 2),
                new Shape(2, 4, 10, 9, 4, 4, 3, 3, 1, 1, 1),
                new Shape(3, 5, 12, 13, 7, 1, 3, 3, 2, 1, 1),
                new Shape(2, 3, 11, 10, 6, 3, 5, 3, 3, 2, 1),
                new Shape(2, 4, 7, 8, 5, 1, 1, 1, 1, 1, 1),
                new Shape(1, 3, 5, 6, 40, 1, 2, 2, 1, 3, 2),
                new Shape(1, 17, 30, 33, 70, 1, 3, 3, 1, 1, 1),
                new Shape(2, 2, 1, 1, 3, 1, 3, 3, 1, 1, 1),
                new Shape(64, 32, 14, 14, 64, 1, 3, 3, 1, 1, 1),
                new Shape(1, 9, 15, 17, 12, 3, 3, 3, 2, 1, 1),
                new Shape(3, 16, 40, 40, 24, 1, 3, 3, 2, 1, 2));
    }

    private static final MicroKernel KERNEL = VectorMicroKernel.select();

    private static float[] random(long seed, int n) {
        return TestArrays.uniform(seed, n);
    }

    private static float[] columns(Shape s, float[] x) {
        float[] cols = new float[s.images() * s.channels() * s.kernelHeight() * s.kernelWidth() * s.positions()];
        Im2col.im2col(x, 0, s.channels(), s.height(), s.width(), s.kernelHeight(), s.kernelWidth(), s.stride(),
                s.padding(), s.dilation(), s.images(), 0f, cols, 0);
        return cols;
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void forwardIsTheGemmOfTheColumns(Shape s) {
        float[] x = random(1, s.images() * s.channels() * s.height() * s.width());
        float[] w = random(2, s.outputs() * s.rowsPerGroup());
        int n = s.positions();
        int k = s.rowsPerGroup();
        int m = s.outputs() / s.groups();
        float[] y = random(3, s.images() * s.outputs() * n);
        ImplicitConv.forward(KERNEL, x, w, y, s.images(), s.channels(), s.height(), s.width(), s.outputs(), s.groups(),
                s.kernelHeight(), s.kernelWidth(), s.stride(), s.padding(), s.dilation());
        float[] cols = columns(s, x);
        float[] expected = new float[y.length];
        for (int p = 0; p < s.images(); p++) {
            for (int g = 0; g < s.groups(); g++) {
                PackedGemm.sgemm(KERNEL, false, false, m, n, k, 1f, w, g * m * k, k,
                        cols, (p * s.groups() + g) * k * n, n, 0f, expected, (p * s.groups() + g) * m * n, n);
            }
        }
        assertArrayEquals(expected, y, s.toString());
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void weightGradientSumsTheImagesInOrder(Shape s) {
        float[] x = random(4, s.images() * s.channels() * s.height() * s.width());
        assertWeightGradient(KERNEL, s, x);
    }

    /**
     * Stride-1 weight gradients (read from shifted copies of the images, no columns) and a
     * stride-2 one, with the three register tiles: padding 0, 1, 2 and past the kernel, odd
     * sizes, one image, groups, dilation, channels that leave 1, 4 or 8 rows past the last whole
     * 12-row tile, outputs that leave part of a 32-wide sliver, products deeper than KC, a
     * panel wider than the in-place limit (A packed), and a split of the taps over the threads
     * (one sliver of outputs, enough work for threads).
     */
    static List<Shape> weightGradShapes() {
        return List.of(
                new Shape(1, 5, 9, 7, 33, 1, 3, 3, 1, 0, 1),
                new Shape(2, 13, 8, 10, 65, 1, 3, 3, 1, 2, 1),
                new Shape(2, 12, 11, 9, 24, 3, 3, 3, 1, 0, 2),
                new Shape(1, 25, 6, 6, 96, 1, 3, 3, 1, 1, 1),
                new Shape(2, 3, 12, 12, 8, 1, 5, 5, 1, 2, 1),
                new Shape(1, 2, 4, 5, 7, 1, 3, 3, 1, 4, 1),
                new Shape(3, 7, 13, 5, 9, 1, 2, 4, 1, 1, 1),
                new Shape(1, 3, 5, 6, 600, 1, 3, 3, 1, 1, 1),
                new Shape(8, 16, 20, 20, 30, 1, 3, 3, 1, 1, 1),
                new Shape(2, 4, 24, 25, 36, 2, 3, 3, 1, 1, 1),
                new Shape(2, 20, 9, 9, 40, 1, 3, 3, 2, 1, 1));
    }

    static List<MicroKernel> kernels() {
        return List.of(VectorMicroKernel12.INSTANCE, VectorMicroKernel.INSTANCE, VectorMicroKernel3.INSTANCE);
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> weightGradCases() {
        return java.util.stream.Stream.concat(weightGradShapes().stream(), shapes().stream().limit(4))
                .flatMap(s -> kernels().stream().map(kernel -> org.junit.jupiter.params.provider.Arguments.of(s, kernel)));
    }

    @ParameterizedTest
    @MethodSource("weightGradCases")
    void weightGradientWithEveryTileIsTheColumnsProduct(Shape s, MicroKernel kernel) {
        float[] x = random(13, s.images() * s.channels() * s.height() * s.width());
        assertWeightGradient(kernel, s, x);
    }

    /**
     * Non-finite inputs: the copies hold exactly the columns' values, so an infinity or NaN in
     * the image meets the same cotangents (and padding zeros meet the same ones) as in the
     * columns' product, NaNs and infinities where that product has them and nowhere else.
     */
    @ParameterizedTest
    @MethodSource("kernels")
    void weightGradientOfNonFiniteInputsIsTheColumnsProduct(MicroKernel kernel) {
        Shape s = new Shape(2, 13, 9, 11, 40, 1, 3, 3, 1, 1, 1);
        float[] x = random(14, s.images() * s.channels() * s.height() * s.width());
        // At an image's edges (next to the padding and the wrapped-around columns) and inside.
        x[0] = Float.POSITIVE_INFINITY;
        x[s.width() - 1] = Float.NaN;
        x[5 * s.height() * s.width() + 3 * s.width()] = Float.NEGATIVE_INFINITY;
        x[x.length - 1] = Float.POSITIVE_INFINITY;
        x[x.length / 2] = Float.NaN;
        assertWeightGradient(kernel, s, x);
    }

    private static void assertWeightGradient(MicroKernel kernel, Shape s, float[] x) {
        int n = s.rowsPerGroup();
        int k = s.positions();
        int m = s.outputs() / s.groups();
        float[] dy = random(5, s.images() * s.outputs() * k);
        float[] dw = random(6, s.outputs() * n);
        ImplicitConv.weightGrad(kernel, x, dy, dw, s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                s.groups(), s.kernelHeight(), s.kernelWidth(), s.stride(), s.padding(), s.dilation());
        float[] cols = columns(s, x);
        float[] expected = new float[dw.length];
        for (int g = 0; g < s.groups(); g++) {
            for (int p = 0; p < s.images(); p++) {
                PackedGemm.sgemm(kernel, false, true, m, n, k, 1f, dy, (p * s.groups() + g) * m * k, k,
                        cols, (p * s.groups() + g) * n * k, k, p == 0 ? 0f : 1f, expected, g * m * n, n);
            }
        }
        assertArrayEquals(expected, dw, kernel.getClass().getSimpleName() + " " + s);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void inputGradientIsTheAdjointOfTheForward(Shape s) {
        if (s.stride() != 1) {
            return;
        }
        int k = s.positions();
        int m = s.outputs() / s.groups();
        int rows = s.rowsPerGroup();
        float[] dy = random(7, s.images() * s.outputs() * k);
        float[] w = random(8, s.outputs() * rows);
        int imageSize = s.channels() * s.height() * s.width();
        float[] dx = random(9, s.images() * imageSize);
        ImplicitConv.inputGrad(KERNEL, dy, w, dx, s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
        // col2im(W_gᵀ · dy_g) in double precision.
        int taps = s.kernelHeight() * s.kernelWidth();
        int perGroup = s.channels() / s.groups();
        double[] expected = new double[dx.length];
        for (int p = 0; p < s.images(); p++) {
            for (int o = 0; o < s.outputs(); o++) {
                int g = o / m;
                for (int c = 0; c < perGroup; c++) {
                    for (int t = 0; t < taps; t++) {
                        int ki = t / s.kernelWidth();
                        int kj = t % s.kernelWidth();
                        double weight = w[(o * perGroup + c) * taps + t];
                        for (int oh = 0; oh < s.outHeight(); oh++) {
                            int h = oh * s.stride() - s.padding() + ki * s.dilation();
                            for (int ow = 0; ow < s.outWidth(); ow++) {
                                int wc = ow * s.stride() - s.padding() + kj * s.dilation();
                                if (h >= 0 && h < s.height() && wc >= 0 && wc < s.width()) {
                                    expected[p * imageSize + ((g * perGroup + c) * s.height() + h) * s.width() + wc]
                                            += weight * dy[(p * s.outputs() + o) * k + oh * s.outWidth() + ow];
                                }
                            }
                        }
                    }
                }
            }
        }
        for (int i = 0; i < dx.length; i++) {
            assertEquals(expected[i], dx[i], 1e-5 * (1 + m * taps), s + " at " + i);
        }
    }
    static List<KernelProvider> providers() {
        return List.of(VectorKernels.INSTANCE, ScalarKernels.INSTANCE);
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> shapesAndProviders() {
        return shapes().stream().flatMap(s -> providers().stream()
                .map(provider -> org.junit.jupiter.params.provider.Arguments.of(s, provider)));
    }

    @ParameterizedTest
    @MethodSource("shapesAndProviders")
    void foldedInputGradientIsTheGemmsThenCol2im(Shape s, KernelProvider provider) {
        int k = s.positions();
        int m = s.outputs() / s.groups();
        int rows = s.rowsPerGroup();
        float[] dy = random(10, s.images() * s.outputs() * k);
        float[] w = random(11, s.outputs() * rows);
        float[] dx = random(12, s.images() * s.channels() * s.height() * s.width());
        provider.conv2dInputGradFolded(dy, w, dx, s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                s.groups(), s.kernelHeight(), s.kernelWidth(), s.stride(), s.padding(), s.dilation());
        // The unfold-multiply-fold composition over all the images at once, as the SPI's default runs it.
        float[] cols = new float[s.images() * s.groups() * rows * k];
        for (int g = 0; g < s.groups(); g++) {
            provider.sgemmBatched(true, false, s.images(), rows, k, m, 1f, w, g * m * rows, 0, dy, g * m * k,
                    s.outputs() * k, 0f, cols, g * rows * k, s.groups() * rows * k);
        }
        float[] expected = new float[dx.length];
        Im2col.col2im(cols, 0, s.channels(), s.height(), s.width(), s.kernelHeight(), s.kernelWidth(), s.stride(),
                s.padding(), s.dilation(), s.images(), expected, 0);
        assertArrayEquals(expected, dx, provider.name() + " " + s);
    }
}
