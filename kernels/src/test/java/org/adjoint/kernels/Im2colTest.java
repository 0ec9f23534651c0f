package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** {@link Im2col} against a naive loop over every column element, bit for bit. */
class Im2colTest {

    private static final float SENTINEL = -777.25f;

    /** A window over images; {@code first} images lie before the ones worked on, {@code after} after them. */
    record Shape(int channels, int height, int width, int kernelHeight, int kernelWidth, int stride, int padding,
                 int dilation, int first, int images, int after) {

        int outHeight() {
            return (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1;
        }

        int outWidth() {
            return (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1;
        }

        int imageSize() {
            return channels * height * width;
        }

        int columnsPerImage() {
            return channels * kernelHeight * kernelWidth * outHeight() * outWidth();
        }

        @Override
        public String toString() {
            return channels + "x" + height + "x" + width + " k" + kernelHeight + "x" + kernelWidth + " s" + stride + " p"
                    + padding + " d" + dilation + " images " + first + "+" + images + "+" + after;
        }
    }

    static List<Shape> shapes() {
        return List.of(
                new Shape(1, 4, 4, 3, 3, 1, 0, 1, 0, 1, 0),
                new Shape(1, 5, 5, 3, 3, 1, 1, 1, 0, 1, 0),
                new Shape(3, 7, 6, 3, 3, 1, 1, 1, 1, 2, 1),
                new Shape(2, 9, 8, 3, 2, 2, 1, 1, 2, 3, 0),
                new Shape(2, 7, 9, 3, 3, 3, 2, 1, 0, 2, 2),
                new Shape(3, 11, 10, 3, 3, 1, 2, 2, 1, 1, 1),
                new Shape(2, 8, 7, 2, 3, 2, 3, 3, 0, 2, 0),
                new Shape(1, 1, 1, 1, 1, 1, 0, 1, 0, 3, 0),
                new Shape(1, 1, 1, 3, 3, 1, 1, 1, 0, 1, 0),
                new Shape(2, 3, 5, 1, 1, 2, 0, 1, 1, 2, 0),
                new Shape(1, 2, 2, 5, 5, 1, 2, 1, 0, 1, 0),
                new Shape(4, 5, 13, 5, 1, 1, 2, 1, 0, 2, 1),
                new Shape(1, 6, 6, 2, 2, 2, 0, 1, 0, 1, 0),
                new Shape(1, 0, 3, 1, 1, 1, 1, 1, 0, 2, 0),
                new Shape(0, 4, 4, 3, 3, 1, 1, 1, 0, 2, 0),
                new Shape(2, 5, 5, 3, 3, 1, 1, 1, 1, 0, 1),
                // As wide as the image but not as tall: the contiguous-run path with rows cut at both ends.
                new Shape(2, 6, 5, 5, 3, 1, 1, 1, 1, 2, 1),
                // Above SERIAL_BELOW column elements: planes split over the threads.
                new Shape(16, 40, 40, 3, 3, 1, 1, 1, 1, 8, 0),
                new Shape(8, 61, 45, 3, 5, 2, 2, 2, 0, 9, 1));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void im2colMatchesTheNaiveLoop(Shape s) {
        float[] in = images(s, 1);
        for (float pad : new float[] {0f, Float.NEGATIVE_INFINITY, 2.5f}) {
            int colsOffset = 3;
            float[] expected = new float[colsOffset + s.images() * s.columnsPerImage() + 2];
            Arrays.fill(expected, SENTINEL);
            naiveIm2col(s, in, pad, expected, colsOffset);
            float[] actual = new float[expected.length];
            Arrays.fill(actual, SENTINEL);
            Im2col.im2col(in, s.first() * s.imageSize(), s.channels(), s.height(), s.width(), s.kernelHeight(),
                    s.kernelWidth(), s.stride(), s.padding(), s.dilation(), s.images(), pad, actual, colsOffset);
            assertBits(expected, actual, "im2col " + s + " pad " + pad);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void col2imMatchesTheNaiveLoop(Shape s) {
        // Magnitudes over many binades, so that another order of addition would show.
        float[] cols = random(s.images() * s.columnsPerImage(), 2, -1, 1);
        for (int k = 0; k < cols.length; k++) {
            cols[k] = (float) (cols[k] * Math.pow(10, k % 7 - 3));
        }
        float[] expected = images(s, 3);
        naiveCol2im(s, cols, expected);
        float[] given = cols.clone();
        for (int run = 0; run < 2; run++) {
            float[] actual = images(s, 3);
            Im2col.col2im(cols, 0, s.channels(), s.height(), s.width(), s.kernelHeight(), s.kernelWidth(), s.stride(),
                    s.padding(), s.dilation(), s.images(), actual, s.first() * s.imageSize());
            assertBits(expected, actual, "col2im " + s + " run " + run);
            assertBits(given, cols, "col2im " + s + " leaves its columns as they were");
        }
    }

    @Test
    void col2imSumsInTheOrderOfTheColumns() {
        // One 1x1x5 image, a 1x3 window: element 2 is read by tap 0 at output 2, tap 1 at output 1
        // and tap 2 at output 0. Added in that order, 1 is lost next to 1e8 and the sum is 0;
        // any other order gives 1.
        float[] cols = {9f, 9f, 1f, 9f, 1e8f, 9f, -1e8f, 9f, 9f};
        float[] image = {5f, 5f, 5f, 5f, 5f};
        Im2col.col2im(cols, 0, 1, 1, 5, 1, 3, 1, 0, 1, 1, image, 0);
        assertBits(new float[] {9f, 18f, 0f, 18f, 9f}, image, "col2im of 1, 1e8, -1e8 into one element");
    }

    @Test
    void refusesBadSizesAndShortArraysNamingTheOperation() {
        float[] in = new float[16];
        float[] cols = new float[9 * 4];
        IllegalArgumentException window = assertThrows(IllegalArgumentException.class,
                () -> Im2col.im2col(in, 0, 1, 4, 4, 7, 3, 1, 1, 1, 1, 0f, cols, 0));
        assertTrue(window.getMessage().startsWith("im2col: the window does not fit the padded image: image 1x4x4,"
                + " window 7x3"), window.getMessage());
        IllegalArgumentException stride = assertThrows(IllegalArgumentException.class,
                () -> Im2col.col2im(cols, 0, 1, 4, 4, 3, 3, 0, 0, 1, 1, in, 0));
        assertTrue(stride.getMessage().startsWith("col2im: invalid sizes"), stride.getMessage());
        IllegalArgumentException shortInput = assertThrows(IllegalArgumentException.class,
                () -> Im2col.im2col(in, 1, 1, 4, 4, 3, 3, 1, 0, 1, 1, 0f, cols, 0));
        assertTrue(shortInput.getMessage().startsWith("im2col: 16 image elements from offset 1 do not fit an array of 16"),
                shortInput.getMessage());
        IllegalArgumentException shortColumns = assertThrows(IllegalArgumentException.class,
                () -> Im2col.col2im(cols, 1, 1, 4, 4, 3, 3, 1, 0, 1, 1, in, 0));
        assertTrue(shortColumns.getMessage().startsWith("col2im: 36 column elements from offset 1 do not fit"),
                shortColumns.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Im2col.im2col(in, -1, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0f, cols, 0));
        assertThrows(IllegalArgumentException.class, () -> Im2col.im2col(in, 0, 1, 2, 2, 1, 1, 1, 0, 1, -1, 0f, cols, 0));
    }

    /** {@code first + images + after} images of random values (with a -0 and a NaN), padded by sentinels. */
    private static float[] images(Shape s, long seed) {
        int count = (s.first() + s.images() + s.after()) * s.imageSize();
        float[] values = random(count, seed, -3, 3);
        if (count > 2) {
            values[count / 2] = -0f;
            values[count / 3] = Float.NaN;
        }
        return values;
    }

    private static void naiveIm2col(Shape s, float[] in, float pad, float[] cols, int colsOffset) {
        int at = colsOffset;
        for (int image = s.first(); image < s.first() + s.images(); image++) {
            for (int c = 0; c < s.channels(); c++) {
                for (int ki = 0; ki < s.kernelHeight(); ki++) {
                    for (int kj = 0; kj < s.kernelWidth(); kj++) {
                        for (int oh = 0; oh < s.outHeight(); oh++) {
                            for (int ow = 0; ow < s.outWidth(); ow++) {
                                int h = oh * s.stride() - s.padding() + ki * s.dilation();
                                int w = ow * s.stride() - s.padding() + kj * s.dilation();
                                boolean inside = h >= 0 && h < s.height() && w >= 0 && w < s.width();
                                cols[at++] = inside ? in[((image * s.channels() + c) * s.height() + h) * s.width() + w]
                                        : pad;
                            }
                        }
                    }
                }
            }
        }
    }

    private static void naiveCol2im(Shape s, float[] cols, float[] in) {
        Arrays.fill(in, s.first() * s.imageSize(), (s.first() + s.images()) * s.imageSize(), 0f);
        int at = 0;
        for (int image = s.first(); image < s.first() + s.images(); image++) {
            for (int c = 0; c < s.channels(); c++) {
                for (int ki = 0; ki < s.kernelHeight(); ki++) {
                    for (int kj = 0; kj < s.kernelWidth(); kj++) {
                        for (int oh = 0; oh < s.outHeight(); oh++) {
                            for (int ow = 0; ow < s.outWidth(); ow++, at++) {
                                int h = oh * s.stride() - s.padding() + ki * s.dilation();
                                int w = ow * s.stride() - s.padding() + kj * s.dilation();
                                if (h >= 0 && h < s.height() && w >= 0 && w < s.width()) {
                                    in[((image * s.channels() + c) * s.height() + h) * s.width() + w] += cols[at];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] random(int n, long seed, float low, float high) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (low + (high - low) * random.nextDouble());
        }
        return values;
    }

    private static void assertBits(float[] expected, float[] actual, String label) {
        assertEquals(expected.length, actual.length, label + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(label + ": element " + i + " expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }
}
