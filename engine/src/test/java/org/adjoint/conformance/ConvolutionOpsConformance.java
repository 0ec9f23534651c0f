package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The SPI's sliding-window operations ({@link org.adjoint.backend.ConvolutionOps}): a backend's
 * {@code im2col} and {@code col2im}, its own kernels or the default bodies, against a naive
 * loop over every column element, bit for bit. Bits, not a tolerance, also for the sums of
 * col2im: every implementation adds an element's column entries to +0 in the order of the
 * columns (channel, tap row, tap column, output position), which is the reference's order.
 */
public abstract class ConvolutionOpsConformance extends BackendConformance {

    private static final float GARBAGE = -777.25f;

    /** A window, and which images of how many it works on. */
    record Case(ConvGeometry geometry, int batch, int firstImage, int images) {

        int outHeight() {
            return geometry.outHeight();
        }

        int outWidth() {
            return geometry.outWidth();
        }

        int imageSize() {
            return Math.toIntExact(geometry.imageSize());
        }

        int columnCount() {
            return Math.toIntExact(images * geometry.columnRows() * geometry.columnCols());
        }

        @Override
        public String toString() {
            ConvGeometry g = geometry;
            return g.channels() + "x" + g.height() + "x" + g.width() + " window " + g.kernelHeight() + "x"
                    + g.kernelWidth() + " stride " + g.stride() + " padding " + g.padding() + " dilation "
                    + g.dilation() + ", images [" + firstImage + ", " + (firstImage + images) + ") of " + batch;
        }
    }

    private static Case of(int channels, int height, int width, int kernelHeight, int kernelWidth, int stride,
                           int padding, int dilation, int batch, int firstImage, int images) {
        return new Case(new ConvGeometry(channels, height, width, kernelHeight, kernelWidth, stride, padding, dilation),
                batch, firstImage, images);
    }

    static List<Case> cases() {
        return List.of(
                of(1, 4, 4, 3, 3, 1, 0, 1, 1, 0, 1),
                of(1, 5, 5, 3, 3, 1, 1, 1, 1, 0, 1),
                of(3, 7, 6, 3, 3, 1, 1, 1, 4, 1, 2),
                of(2, 9, 8, 3, 2, 2, 1, 1, 5, 2, 3),
                of(2, 7, 9, 3, 3, 3, 2, 1, 4, 0, 2),
                of(3, 11, 10, 3, 3, 1, 2, 2, 3, 1, 1),
                of(2, 8, 7, 2, 3, 2, 3, 3, 2, 0, 2),
                of(1, 1, 1, 1, 1, 1, 0, 1, 3, 0, 3),
                of(1, 1, 1, 3, 3, 1, 1, 1, 1, 0, 1),
                of(2, 3, 5, 1, 1, 2, 0, 1, 3, 1, 2),
                of(1, 2, 2, 5, 5, 1, 2, 1, 1, 0, 1),
                of(4, 5, 13, 5, 1, 1, 2, 1, 3, 0, 2),
                of(1, 6, 6, 2, 2, 2, 0, 1, 1, 0, 1),
                of(5, 12, 12, 2, 2, 2, 0, 1, 2, 1, 1),
                of(3, 13, 17, 7, 7, 2, 3, 1, 2, 0, 2),
                of(2, 5, 5, 3, 3, 1, 1, 1, 3, 1, 0),
                // Large enough for the CPU's threads, and for more blocks than one on a GPU.
                of(16, 33, 35, 3, 3, 1, 1, 1, 9, 1, 8));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void im2colMatchesTheNaiveLoop(Case c) {
        Backend backend = backend();
        float[] images = images(c, 1);
        Buffer input = backend.upload(images);
        for (float pad : new float[] {0f, Float.NEGATIVE_INFINITY, 1.5f}) {
            float[] garbage = new float[c.columnCount()];
            Arrays.fill(garbage, GARBAGE);
            Buffer columns = backend.upload(garbage);
            backend.im2col(input, c.geometry(), c.firstImage(), c.images(), pad, columns);
            assertBits(naiveIm2col(c, images, pad), backend.download(columns), "im2col " + c + ", padding reads " + pad);
            backend.release(columns);
        }
        assertBits(images, backend.download(input), "im2col's input after " + c);
        backend.release(input);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void col2imMatchesTheNaiveLoopAndLeavesTheOtherImages(Case c) {
        Backend backend = backend();
        // Magnitudes over many binades, so that a sum in another order would show.
        float[] values = random(c.columnCount(), 2, -1, 1);
        for (int k = 0; k < values.length; k++) {
            values[k] = (float) (values[k] * Math.pow(10, k % 7 - 3));
        }
        float[] before = images(c, 3);
        float[] expected = naiveCol2im(c, values, before);
        Buffer columns = backend.upload(values);
        for (int run = 0; run < 2; run++) {
            Buffer input = backend.upload(before);
            backend.col2im(columns, c.geometry(), c.firstImage(), c.images(), input);
            assertBits(expected, backend.download(input), "col2im " + c + ", run " + run);
            backend.release(input);
        }
        assertBits(values, backend.download(columns), "col2im's columns after " + c);
        backend.release(columns);
    }

    @Test
    void col2imAddsInTheOrderOfTheColumns() {
        // One 1x1x5 image, a 1x3 window: element 2 is read by tap 0 at output 2, tap 1 at output 1
        // and tap 2 at output 0. Added in that order, 1 is lost next to 1e8 and the sum is 0.
        Backend backend = backend();
        Buffer columns = backend.upload(new float[] {9f, 9f, 1f, 9f, 1e8f, 9f, -1e8f, 9f, 9f});
        Buffer image = backend.upload(new float[] {5f, 5f, 5f, 5f, 5f});
        backend.col2im(columns, new ConvGeometry(1, 1, 5, 1, 3, 1, 0, 1), 0, 1, image);
        assertBits(new float[] {9f, 18f, 0f, 18f, 9f}, backend.download(image), "col2im of 1, 1e8, -1e8 into one element");
    }

    @Test
    void paddingOnlyWindowsReadThePadValue() {
        // Channels of zero rows: every tap is on padding (and col2im has nothing to write).
        Backend backend = backend();
        ConvGeometry geometry = new ConvGeometry(2, 0, 3, 1, 2, 1, 1, 1);
        Buffer columns = backend.upload(new float[2 * 2 * geometry.outHeight() * geometry.outWidth()]);
        backend.im2col(backend.upload(new float[] {1f}), geometry, 0, 1, Float.NEGATIVE_INFINITY, columns);
        float[] expected = new float[2 * 2 * 2 * 4];
        Arrays.fill(expected, Float.NEGATIVE_INFINITY);
        assertBits(expected, backend.download(columns), "im2col of 2x0x3 images, padding 1");
    }

    /** {@code batch} images of random values, with a -0 and a NaN among them. */
    private static float[] images(Case c, long seed) {
        int count = c.batch() * c.imageSize();
        float[] values = random(count, seed, -3, 3);
        if (count > 2) {
            values[count / 2] = -0f;
            values[count / 3] = Float.NaN;
        }
        return values;
    }

    private static float[] naiveIm2col(Case c, float[] images, float pad) {
        ConvGeometry g = c.geometry();
        float[] columns = new float[c.columnCount()];
        int at = 0;
        for (int image = c.firstImage(); image < c.firstImage() + c.images(); image++) {
            for (int channel = 0; channel < g.channels(); channel++) {
                for (int ki = 0; ki < g.kernelHeight(); ki++) {
                    for (int kj = 0; kj < g.kernelWidth(); kj++) {
                        for (int oh = 0; oh < c.outHeight(); oh++) {
                            for (int ow = 0; ow < c.outWidth(); ow++) {
                                int h = oh * g.stride() - g.padding() + ki * g.dilation();
                                int w = ow * g.stride() - g.padding() + kj * g.dilation();
                                boolean inside = h >= 0 && h < g.height() && w >= 0 && w < g.width();
                                columns[at++] = inside
                                        ? images[((image * g.channels() + channel) * g.height() + h) * g.width() + w] : pad;
                            }
                        }
                    }
                }
            }
        }
        return columns;
    }

    private static float[] naiveCol2im(Case c, float[] columns, float[] before) {
        ConvGeometry g = c.geometry();
        float[] images = before.clone();
        Arrays.fill(images, c.firstImage() * c.imageSize(), (c.firstImage() + c.images()) * c.imageSize(), 0f);
        int at = 0;
        for (int image = c.firstImage(); image < c.firstImage() + c.images(); image++) {
            for (int channel = 0; channel < g.channels(); channel++) {
                for (int ki = 0; ki < g.kernelHeight(); ki++) {
                    for (int kj = 0; kj < g.kernelWidth(); kj++) {
                        for (int oh = 0; oh < c.outHeight(); oh++) {
                            for (int ow = 0; ow < c.outWidth(); ow++, at++) {
                                int h = oh * g.stride() - g.padding() + ki * g.dilation();
                                int w = ow * g.stride() - g.padding() + kj * g.dilation();
                                if (h >= 0 && h < g.height() && w >= 0 && w < g.width()) {
                                    images[((image * g.channels() + channel) * g.height() + h) * g.width() + w]
                                            += columns[at];
                                }
                            }
                        }
                    }
                }
            }
        }
        return images;
    }

    private static float[] random(int n, long seed, float low, float high) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (low + (high - low) * random.nextDouble());
        }
        return values;
    }

    /** The same bits, except that any NaN equals any NaN. */
    private static void assertBits(float[] expected, float[] actual, String label) {
        assertEquals(expected.length, actual.length, label + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(label + ": element " + i + " expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }
}
