package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SparseWeightGrad} bit for bit against {@link ImplicitConv#weightGrad} on the tiles of
 * both machines (the 12-row one and the 4-row one), with {@code dy} as a ReLU and a max pooling
 * leave it and with {@code dy} dense; shapes with padding 0 to 2, dilation 2, groups, channels
 * that are not a multiple of the lanes, batch 1, and enough work to split among the threads.
 */
class SparseWeightGradTest {

    record Shape(int images, int channels, int height, int width, int outputs, int groups, int padding,
                 int dilation) {

        int outHeight() {
            return height + 2 * padding - 2 * dilation;
        }

        int outWidth() {
            return width + 2 * padding - 2 * dilation;
        }

        @Override
        public String toString() {
            return images + "x" + channels + "x" + height + "x" + width + "->" + outputs + " g" + groups + " p"
                    + padding + " d" + dilation;
        }
    }

    static List<Shape> shapes() {
        return List.of(
                new Shape(64, 32, 14, 14, 64, 1, 1, 1),
                new Shape(1, 32, 14, 14, 64, 1, 1, 1),
                new Shape(3, 5, 9, 11, 7, 1, 0, 1),
                new Shape(2, 6, 10, 7, 13, 1, 2, 1),
                new Shape(2, 6, 9, 11, 8, 2, 2, 2),
                new Shape(2, 4, 10, 9, 4, 4, 1, 1),
                new Shape(2, 17, 12, 13, 70, 1, 1, 1),
                new Shape(3, 9, 12, 5, 24, 3, 1, 1),
                new Shape(2, 1, 3, 3, 2, 1, 0, 1));
    }

    private static float[] dense(long seed, int n) {
        return DirectConvTest.random(seed, n);
    }

    private static float[] pooled(long seed, int planes, int height, int width) {
        return DirectConvTest.pooledGradient(seed, 1, planes, height, width);
    }

    private static void assertBits(float[] expected, float[] actual, String message) {
        DirectConvTest.assertBits(expected, actual, message);
    }

    private static void check(Shape s, float[] x, float[] dy, String label) {
        int size = s.outputs() * s.channels() / s.groups() * 9;
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel12.INSTANCE, VectorMicroKernel.INSTANCE}) {
            float[] expected = dense(3, size);
            ImplicitConv.weightGrad(tile, x, dy, expected, s.images(), s.channels(), s.height(), s.width(),
                    s.outputs(), s.groups(), 3, 3, 1, s.padding(), s.dilation());
            float[] dw = dense(4, size);
            int kc = GemmBlocking.forTile(tile.rows(), tile.columns()).kc();
            assertTrue(SparseWeightGrad.weightGrad(x, dy, dw, s.images(), s.channels(), s.height(), s.width(),
                    s.outputs(), s.groups(), s.padding(), s.dilation(), kc, 1.0), s + " " + label);
            assertBits(expected, dw, s + " " + label + " against the " + tile.rows() + "-row tile");
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void pooledGradientHasTheBitsOfTheImplicitGemm(Shape s) {
        float[] x = dense(1, s.images() * s.channels() * s.height() * s.width());
        check(s, x, pooled(2, s.images() * s.outputs(), s.outHeight(), s.outWidth()), "pooled dy");
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void denseGradientHasTheBitsOfTheImplicitGemm(Shape s) {
        float[] x = dense(5, s.images() * s.channels() * s.height() * s.width());
        check(s, x, dense(6, s.images() * s.outputs() * s.outHeight() * s.outWidth()), "dense dy");
    }

    @Test
    void declinesWhatItCannotMatchAndWritesNothing() {
        Shape s = new Shape(2, 8, 9, 9, 16, 1, 1, 1);
        float[] x = dense(7, 2 * 8 * 81);
        float[] dy = pooled(8, 2 * 16, 9, 9);
        float[] dw = dense(9, 16 * 8 * 9);
        float[] before = dw.clone();
        x[100] = Float.NaN;
        assertFalse(SparseWeightGrad.weightGrad(x, dy, dw, 2, 8, 9, 9, 16, 1, 1, 1, 512, 1.0), "NaN in x");
        x[100] = Float.NEGATIVE_INFINITY;
        assertFalse(SparseWeightGrad.weightGrad(x, dy, dw, 2, 8, 9, 9, 16, 1, 1, 1, 512, 1.0), "-inf in x");
        x[100] = 0.5f;
        assertFalse(SparseWeightGrad.weightGrad(x, dy, dw, 2, 8, 9, 9, 16, 1, 1, 1, 512, 0.1), "denser than asked");
        assertFalse(SparseWeightGrad.weightGrad(x, dy, dw, 2, 8, 9, 9, 16, 1, 1, 1, 512, 0), "density 0");
        assertFalse(SparseWeightGrad.weightGrad(x, dy, dw, 2, 8, 9, 9, 16, 1, 1, 1, 80, 1.0), "81 positions, KC 80");
        assertFalse(SparseWeightGrad.weightGrad(x, dy, dw, 0, 8, 9, 9, 16, 1, 1, 1, 512, 1.0), "no images");
        assertArrayEquals(before, dw);
        assertTrue(SparseWeightGrad.weightGrad(x, dy, dw, 2, 8, 9, 9, 16, 1, 1, 1, 512, 1.0));
    }

    @Test
    void samplesTheFirstMiddleAndLastImages() {
        float[] dy = new float[5 * 10];
        dy[0] = 1f;
        dy[25] = 2f;
        dy[49] = Float.NaN;
        // Images 0, 2 and 4 hold one nonzero element each in ten: 3 of 30.
        assertTrue(SparseWeightGrad.sparse(dy, 5, 10, 0.1));
        assertFalse(SparseWeightGrad.sparse(dy, 5, 10, 0.09));
        dy[15] = 3f;
        dy[16] = 3f;
        assertTrue(SparseWeightGrad.sparse(dy, 5, 10, 0.1), "image 1 is not sampled");
        assertTrue(SparseWeightGrad.sparse(new float[10], 1, 10, 0.01), "one image, counted once");
    }

    @Test
    void takesStrideOneThreeByThreeWindowsOnly() {
        assertTrue(SparseWeightGrad.takes(3, 3, 1, 14, 14, 1, 1));
        assertFalse(SparseWeightGrad.takes(3, 3, 2, 14, 14, 1, 1));
        assertFalse(SparseWeightGrad.takes(5, 5, 1, 14, 14, 2, 1));
        assertFalse(SparseWeightGrad.takes(3, 2, 1, 14, 14, 1, 1));
        assertFalse(SparseWeightGrad.takes(3, 3, 1, 2, 2, 0, 1));
    }

    @Test
    void countsNonzeroElementsOfEitherSignAndNaN() {
        float[] a = {0f, -0f, 1f, -2f, Float.NaN, 0f, 3f, 0f, 0f, -0f, 5f, 0f, 0f, 0f, 0f, 0f, 0f, 7f, -0f};
        assertEquals(6, SparseChains.count(a, 0, a.length));
        assertEquals(3, SparseChains.count(a, 0, 5));
        assertEquals(5, SparseChains.count(a, 3, 16));
        assertTrue(SparseWeightGrad.finite(new float[33], 33));
        float[] b = new float[33];
        b[32] = Float.POSITIVE_INFINITY;
        assertFalse(SparseWeightGrad.finite(b, 33));
        assertTrue(SparseWeightGrad.finite(b, 32));
    }
}
