package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link DirectConv} bit for bit against what it stands in for: the forward against
 * {@link ImplicitConv#forward} on {@link VectorMicroKernel12} (the same chain as
 * {@link PackedGemm} on the columns), the input gradient against {@link FoldedConv} (the
 * columns {@code W_gᵀ · dy_g} folded by col2im). Sizes that leave remainders everywhere: rows
 * of A not a multiple of 12 or 4, under both machines' full tiles (12 rows and 4), positions
 * not a multiple of a tile, rows that wrap, batch 1, padding 0 to 2, dilation 2, groups, a
 * depth past one block of k; inputs with zeros of both signs, as ReLU gives.
 */
class DirectConvTest {

    /** The full tiles of both machines: 12 rows (32 vector registers) and 4 (16); the bits must not change. */
    private static final int[] FULL_ROWS = {VectorConvTile.ROWS, VectorConvTile.SHORT_ROWS};

    /** One stride-1 convolution; the arrays are NCHW. */
    record Shape(int images, int channels, int height, int width, int outputs, int groups, int kernelHeight,
                 int kernelWidth, int padding, int dilation) {

        int outHeight() {
            return height + 2 * padding - dilation * (kernelHeight - 1);
        }

        int outWidth() {
            return width + 2 * padding - dilation * (kernelWidth - 1);
        }

        @Override
        public String toString() {
            return images + "x" + channels + "x" + height + "x" + width + "->" + outputs + " g" + groups + " k"
                    + kernelHeight + "x" + kernelWidth + " p" + padding + " d" + dilation;
        }
    }

    static List<Shape> shapes() {
        return List.of(
                new Shape(64, 32, 14, 14, 64, 1, 3, 3, 1, 1),
                new Shape(3, 1, 28, 28, 32, 1, 3, 3, 1, 1),
                new Shape(1, 32, 14, 14, 64, 1, 3, 3, 1, 1),
                new Shape(2, 5, 9, 11, 7, 1, 3, 3, 0, 1),
                new Shape(3, 6, 10, 7, 13, 1, 3, 3, 2, 1),
                new Shape(2, 6, 9, 11, 8, 2, 3, 2, 2, 2),
                new Shape(2, 4, 10, 9, 4, 4, 3, 3, 1, 1),
                new Shape(1, 3, 5, 6, 17, 1, 2, 2, 1, 2),
                new Shape(1, 17, 30, 33, 70, 1, 3, 3, 1, 1),
                new Shape(2, 2, 1, 1, 3, 1, 3, 3, 1, 1),
                new Shape(2, 64, 6, 5, 12, 1, 3, 3, 1, 1),
                new Shape(1, 3, 8, 8, 1, 1, 5, 3, 2, 1),
                new Shape(2, 8, 7, 8, 5, 1, 1, 1, 0, 1),
                new Shape(3, 9, 12, 5, 24, 3, 3, 3, 1, 1),
                new Shape(2, 22, 9, 9, 16, 1, 3, 3, 1, 1),
                new Shape(2, 10, 9, 12, 11, 1, 3, 3, 1, 1),
                new Shape(2, 64, 8, 7, 64, 1, 3, 3, 1, 1),
                new Shape(2, 14, 7, 9, 26, 1, 3, 3, 1, 1));
    }

    static float[] random(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double u = random.nextDouble();
            // A quarter zeros of either sign, as after a ReLU and its gradient.
            out[i] = u < 0.125 ? 0f : u < 0.25 ? -0f : (float) random.nextDouble(-1, 1);
        }
        return out;
    }

    static void assertBits(float[] expected, float[] actual, String message) {
        assertEquals(expected.length, actual.length, message);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(message + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void forwardHasTheBitsOfTheImplicitGemm(Shape s) {
        float[] x = random(1, s.images() * s.channels() * s.height() * s.width());
        float[] w = random(2, s.outputs() * s.channels() / s.groups() * s.kernelHeight() * s.kernelWidth());
        int outSize = s.images() * s.outputs() * s.outHeight() * s.outWidth();
        float[] expected = random(3, outSize);
        ImplicitConv.forward(VectorMicroKernel12.INSTANCE, x, w, expected, s.images(), s.channels(), s.height(),
                s.width(), s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), 1, s.padding(), s.dilation());
        for (int rows : FULL_ROWS) {
            float[] y = random(4, outSize);
            DirectConv.forward(rows, x, w, null, false, y, s.images(), s.channels(), s.height(), s.width(),
                    s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
            assertBits(expected, y, s + " under " + rows + "-row tiles");
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void theTailInTheCopyOutHasTheBitsOfTheBiasAndReluAfterTheForward(Shape s) {
        float[] x = random(21, s.images() * s.channels() * s.height() * s.width());
        float[] w = random(22, s.outputs() * s.channels() / s.groups() * s.kernelHeight() * s.kernelWidth());
        // Biases with zeros of both signs: −0 + −0 stays −0, and adding no bias must not make it +0.
        float[] bias = random(23, s.outputs());
        int positions = s.outHeight() * s.outWidth();
        int outSize = s.images() * s.outputs() * positions;
        for (float[] b : new float[][] {bias, null}) {
            for (boolean relu : new boolean[] {true, false}) {
                float[] expected = new float[outSize];
                DirectConv.forward(x, w, expected, s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                        s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
                ChannelBias.biasRelu(expected, b, relu, s.images(), s.outputs(), positions);
                String label = s + (b == null ? " no bias" : " bias") + (relu ? " relu" : "");
                for (int rows : FULL_ROWS) {
                    float[] y = random(24, outSize);
                    DirectConv.forward(rows, x, w, b, relu, y, s.images(), s.channels(), s.height(), s.width(),
                            s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
                    assertBits(expected, y, label + " under " + rows + "-row tiles");
                }
                float[] viaProvider = random(25, outSize);
                VectorKernels.INSTANCE.conv2dBiasRelu(x, w, b, relu, viaProvider, s.images(), s.channels(), s.height(),
                        s.width(), s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), 1, s.padding(),
                        s.dilation());
                assertBits(expected, viaProvider, label + " through the provider");
                float[] inPlace = new float[outSize];
                DirectConv.forward(x, w, inPlace, s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                        s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
                VectorKernels.INSTANCE.channelBiasRelu(inPlace, b, relu, s.images(), s.outputs(), positions);
                assertBits(expected, inPlace, label + " as a vector pass after the forward");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void poolingInTheCopyOutHasTheBitsOfTheForwardThenThePooling(Shape s) {
        boolean taken = DirectConv.takesPooled(s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                s.groups(), s.kernelHeight(), s.kernelWidth(), 1, s.padding(), s.dilation());
        boolean provider = DirectConv.matches(VectorMicroKernel.select());
        assertEquals(taken && provider, VectorKernels.INSTANCE.poolsConvolution(s.images(), s.channels(), s.height(),
                s.width(), s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), 1, s.padding(), s.dilation()),
                s.toString());
        if (!taken) {
            assertTrue(s.outHeight() < 2 || s.outWidth() < 2 || !DirectConv.takesForward(s.images(), s.channels(),
                    s.height(), s.width(), s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), 1, s.padding(),
                    s.dilation()), s.toString());
            return;
        }
        float[] x = random(41, s.images() * s.channels() * s.height() * s.width());
        // A NaN, which must win its window as the separate pooling lets it.
        x[x.length / 3] = Float.NaN;
        float[] w = random(42, s.outputs() * s.channels() / s.groups() * s.kernelHeight() * s.kernelWidth());
        float[] bias = random(43, s.outputs());
        Pooling.Window window = new Pooling.Window(s.images() * s.outputs(), s.outHeight(), s.outWidth(), 2, 2, 2, 0,
                1);
        int pooled = Math.toIntExact(window.outputSize());
        for (float[] b : new float[][] {bias, null}) {
            for (boolean relu : new boolean[] {true, false}) {
                String label = s + (b == null ? " no bias" : " bias") + (relu ? " relu" : "");
                float[] y = new float[s.images() * s.outputs() * s.outHeight() * s.outWidth()];
                DirectConv.forward(x, w, b, relu, y, s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                        s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
                float[] expected = new float[pooled];
                float[] expectedTaps = new float[pooled];
                VectorKernels.INSTANCE.maxPool(y, window, expected, expectedTaps);
                for (int rows : FULL_ROWS) {
                    float[] values = random(44, pooled);
                    float[] taps = random(45, pooled);
                    DirectConv.forwardPooled(rows, x, w, b, relu, values, taps, s.images(), s.channels(), s.height(),
                            s.width(), s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(),
                            s.dilation());
                    assertBits(expected, values, label + " under " + rows + "-row tiles");
                    assertBits(expectedTaps, taps, label + " argmax under " + rows + "-row tiles");
                }
                if (provider) {
                    float[] viaProvider = random(47, pooled);
                    VectorKernels.INSTANCE.conv2dBiasReluMaxPool(x, w, b, relu, viaProvider, null, s.images(),
                            s.channels(), s.height(), s.width(), s.outputs(), s.groups(), s.kernelHeight(),
                            s.kernelWidth(), 1, s.padding(), s.dilation());
                    assertBits(expected, viaProvider, label + " through the provider");
                }
                for (int rows : FULL_ROWS) {
                    float[] alone = random(46, pooled);
                    DirectConv.forwardPooled(rows, x, w, b, relu, alone, null, s.images(), s.channels(), s.height(),
                            s.width(), s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(),
                            s.dilation());
                    assertBits(expected, alone, label + " without the argmax under " + rows + "-row tiles");
                }
            }
        }
    }

    @Test
    void onlyTheVectorProviderPoolsInTheCopyOut() {
        assertEquals(DirectConv.matches(VectorMicroKernel.select()),
                VectorKernels.INSTANCE.poolsConvolution(64, 1, 28, 28, 32, 1, 3, 3, 1, 1, 1));
        assertTrue(DirectConv.takesPooled(64, 32, 14, 14, 64, 1, 3, 3, 1, 1, 1));
        assertFalse(DirectConv.takesPooled(64, 32, 3, 3, 64, 1, 3, 3, 1, 0, 1), "a 1 x 1 output");
        assertFalse(ScalarKernels.INSTANCE.poolsConvolution(64, 1, 28, 28, 32, 1, 3, 3, 1, 1, 1));
        UnsupportedOperationException none = assertThrows(UnsupportedOperationException.class, () -> ScalarKernels.INSTANCE.conv2dBiasReluMaxPool(new float[4],
                        new float[1], null, true, new float[1], null, 1, 1, 2, 2, 1, 1, 1, 1, 1, 0, 1));
        assertTrue(none.getMessage().contains("conv2dBiasReluMaxPool"), none.getMessage());
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void theReluGradientAndBiasSumsHaveTheBitsOfTheSeparatePasses(Shape s) {
        int channels = s.outputs();
        int positions = s.outHeight() * s.outWidth();
        int n = s.images() * channels * positions;
        float[] y = random(31, n);
        for (int i = 0; i < n; i++) {
            y[i] = Math.max(y[i], 0f);
        }
        float[] dy = random(32, n);
        for (KernelProvider provider : List.of(ScalarKernels.INSTANCE, VectorKernels.INSTANCE)) {
            float[] expected = new float[n + channels];
            float[] g = new float[n];
            provider.unaryTimes(ElementWise.Unary.STEP, y, dy, g, n);
            float[] sums = new float[channels];
            provider.sumTo(g, new int[] {s.images(), channels, positions}, sums, new int[] {0, 1, 0});
            System.arraycopy(g, 0, expected, 0, n);
            System.arraycopy(sums, 0, expected, n, channels);
            float[] grads = random(33, n + channels);
            provider.channelReluGrad(y, dy, grads, true, s.images(), channels, positions);
            String label = s + " " + provider.name();
            if (channels > 1 || s.images() == 1) {
                assertBits(expected, grads, label);
            }
            float[] alone = random(34, n);
            provider.channelReluGrad(y, dy, alone, false, s.images(), channels, positions);
            assertBits(g, alone, label + " without the sums");
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void inputGradientHasTheBitsOfTheFoldedColumns(Shape s) {
        if (s.padding() > s.dilation() * (Math.min(s.kernelHeight(), s.kernelWidth()) - 1)
                || s.outHeight() * s.outWidth() <= NarrowGemm.MAX_COLUMNS) {
            // Padding past the window's reach, or a product the folded path gives to another GEMM.
            assertFalse(DirectConv.takesInputGrad(s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                    s.groups(), s.kernelHeight(), s.kernelWidth(), 1, s.padding(), s.dilation()), s.toString());
            return;
        }
        float[] dy = random(5, s.images() * s.outputs() * s.outHeight() * s.outWidth());
        float[] w = random(6, s.outputs() * s.channels() / s.groups() * s.kernelHeight() * s.kernelWidth());
        int inSize = s.images() * s.channels() * s.height() * s.width();
        float[] expected = random(7, inSize);
        FoldedConv.inputGrad(VectorKernels.INSTANCE, VectorWindows::addRun, dy, w, expected, s.images(), s.channels(),
                s.height(), s.width(), s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), 1, s.padding(),
                s.dilation());
        for (int rows : FULL_ROWS) {
            // Density 0: every unit dense; 1: every unit scattered by SparseInputGrad.
            for (double density : new double[] {0, 1}) {
                float[] dx = random(8, inSize);
                DirectConv.inputGrad(rows, density, dy, w, dx, s.images(), s.channels(), s.height(), s.width(),
                        s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
                assertBits(expected, dx, s + " under " + rows + "-row tiles, density " + density);
            }
        }
    }

    /** dy as a ReLU and a 2 × 2 max pooling leave it: at most one nonzero element per window, some windows none. */
    static float[] pooledGradient(long seed, int images, int outputs, int height, int width) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] dy = new float[images * outputs * height * width];
        for (int plane = 0; plane < images * outputs; plane++) {
            for (int h = 0; h + 1 < height; h += 2) {
                for (int x = 0; x + 1 < width; x += 2) {
                    double u = random.nextDouble();
                    int at = plane * height * width + (h + random.nextInt(2)) * width + x + random.nextInt(2);
                    dy[at] = u < 0.3 ? (u < 0.15 ? -0f : 0f) : (float) random.nextDouble(-1, 1);
                }
            }
        }
        return dy;
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void sparseInputGradientHasTheBitsOfTheFoldedColumns(Shape s) {
        if (!DirectConv.takesInputGrad(s.images(), s.channels(), s.height(), s.width(), s.outputs(), s.groups(),
                s.kernelHeight(), s.kernelWidth(), 1, s.padding(), s.dilation())) {
            return;
        }
        float[] dy = pooledGradient(15, s.images(), s.outputs(), s.outHeight(), s.outWidth());
        float[] w = random(16, s.outputs() * s.channels() / s.groups() * s.kernelHeight() * s.kernelWidth());
        int inSize = s.images() * s.channels() * s.height() * s.width();
        float[] expected = random(17, inSize);
        FoldedConv.inputGrad(VectorKernels.INSTANCE, VectorWindows::addRun, dy, w, expected, s.images(), s.channels(),
                s.height(), s.width(), s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), 1, s.padding(),
                s.dilation());
        float[] dx = random(18, inSize);
        DirectConv.inputGrad(dy, w, dx, s.images(), s.channels(), s.height(), s.width(), s.outputs(), s.groups(),
                s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
        assertBits(expected, dx, s + " at the default density");
    }

    @Test
    void sparseInputGradientTakesSparseUnitsAndLeavesDenseOnes() {
        Shape s = new Shape(2, 32, 14, 14, 64, 1, 3, 3, 1, 1);
        float[] w = random(19, s.outputs() * s.channels() * 9);
        SparseInputGrad sparse = SparseInputGrad.prepare(w, s.channels(), s.height(), s.width(), s.outputs(), 1, 3,
                3, 1, 1, SparseInputGrad.DENSITY);
        int inSize = s.channels() * s.height() * s.width();
        float[] pooled = pooledGradient(20, 1, s.outputs(), 14, 14);
        float[] dx = random(21, inSize);
        assertTrue(sparse.unit(pooled, 0, dx, 0, 0), "a pooled gradient is scattered");
        float[] dense = random(22, s.outputs() * 14 * 14);
        float[] untouched = dx.clone();
        assertFalse(sparse.unit(dense, 0, dx, 0, 0), "a dense gradient is left to the tile");
        assertArrayEquals(untouched, dx, "a declined unit writes nothing");
    }

    @Test
    void sparseInputGradientDeclinesInfiniteWeightsAndKeepsTheirNaN() {
        Shape s = new Shape(2, 8, 9, 9, 16, 1, 3, 3, 1, 1);
        float[] w = random(23, s.outputs() * s.channels() * 9);
        w[5] = Float.POSITIVE_INFINITY;
        assertEquals(null, SparseInputGrad.prepare(w, s.channels(), s.height(), s.width(), s.outputs(), 1, 3, 3, 1, 1,
                1.0));
        float[] dy = pooledGradient(24, s.images(), s.outputs(), 9, 9);
        int inSize = s.images() * s.channels() * 81;
        float[] dense = random(25, inSize);
        DirectConv.inputGrad(VectorConvTile.SHORT_ROWS, 0, dy, w, dense, s.images(), s.channels(), 9, 9, s.outputs(),
                1, 3, 3, 1, 1);
        float[] asked = random(26, inSize);
        DirectConv.inputGrad(VectorConvTile.SHORT_ROWS, 1, dy, w, asked, s.images(), s.channels(), 9, 9, s.outputs(),
                1, 3, 3, 1, 1);
        assertBits(dense, asked, "an infinite weight");
        assertTrue(Float.isNaN(asked[0]), "the infinity times a zero of dy is NaN, as in the dense kernel");
    }

    @Test
    void sparseDensityPropertyIsAFraction() {
        assertEquals(0.35, SparseInputGrad.density(null));
        assertEquals(0.5, SparseInputGrad.density(" 0.5 "));
        assertEquals(0.0, SparseInputGrad.density("0"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparseInputGrad.density("1.5"));
        assertTrue(e.getMessage().contains("adjoint.conv.sparseDensity") && e.getMessage().contains("1.5"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SparseInputGrad.density("half"));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void flippedInputGradientHasTheBitsOfTheImplicitGemm(Shape s) {
        if (s.padding() > s.dilation() * (Math.min(s.kernelHeight(), s.kernelWidth()) - 1)) {
            assertFalse(DirectConv.takesFlipped(s.images(), s.channels(), s.height(), s.width(), s.outputs(),
                    s.groups(), s.kernelHeight(), s.kernelWidth(), 1, s.padding(), s.dilation()), s.toString());
            return;
        }
        float[] dy = random(11, s.images() * s.outputs() * s.outHeight() * s.outWidth());
        float[] w = random(12, s.outputs() * s.channels() / s.groups() * s.kernelHeight() * s.kernelWidth());
        int inSize = s.images() * s.channels() * s.height() * s.width();
        float[] expected = random(13, inSize);
        ImplicitConv.inputGrad(VectorMicroKernel12.INSTANCE, dy, w, expected, s.images(), s.channels(), s.height(),
                s.width(), s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
        for (int rows : FULL_ROWS) {
            float[] dx = random(14, inSize);
            DirectConv.inputGradFlipped(rows, dy, w, dx, s.images(), s.channels(), s.height(), s.width(),
                    s.outputs(), s.groups(), s.kernelHeight(), s.kernelWidth(), s.padding(), s.dilation());
            assertBits(expected, dx, s + " under " + rows + "-row tiles");
        }
    }

    @Test
    void segmentsOfWholeThreeByThreeWindowsRunTheRegularTile() {
        // Nine taps a channel, channels 256 apart: one segment of two channels, one of one.
        int[] offsets = new int[27];
        for (int p = 0; p < offsets.length; p++) {
            offsets[p] = p / 9 * 256 + (p % 9 / 3) * 16 + p % 3;
        }
        assertArrayEquals(new int[] {256, 0}, DirectConv.regularStrides(offsets, new int[] {0, 18, 27}));
        // A block of k that splits a channel's taps; a run that breaks the period (one channel alone
        // is always a period).
        assertArrayEquals(new int[] {-1, -1}, DirectConv.regularStrides(offsets, new int[] {0, 13, 27}));
        offsets[11] += 1;
        assertArrayEquals(new int[] {-1, 0}, DirectConv.regularStrides(offsets, new int[] {0, 18, 27}));
    }

    @Test
    void theCnnLayersAreTaken() {
        assertTrue(DirectConv.matches(VectorMicroKernel12.INSTANCE));
        // The AVX2 SGEMM's 4 x 16 tile where the conv tile is as wide (256-bit vectors): AVX2 machines
        // read B in place too.
        assertEquals(VectorConvTile.COLUMNS == VectorMicroKernel.INSTANCE.columns(),
                DirectConv.matches(VectorMicroKernel.INSTANCE));
        assertFalse(DirectConv.matches(VectorMicroKernel3.INSTANCE), "the 3 x 24 tile");
        assertEquals(VectorMicroKernel.select().rows() == 12 ? 12 : 4, DirectConv.FULL_ROWS, "the SGEMM tile's rows");
        assertTrue(DirectConv.takesInputGrad(64, 32, 14, 14, 64, 1, 3, 3, 1, 1, 1));
        assertTrue(DirectConv.takesForward(64, 32, 14, 14, 64, 1, 3, 3, 1, 1, 1));
        assertTrue(DirectConv.takesForward(64, 1, 28, 28, 32, 1, 3, 3, 1, 1, 1));
        assertFalse(DirectConv.takesInputGrad(64, 32, 14, 14, 64, 1, 3, 3, 2, 1, 1), "stride 2");
        assertFalse(DirectConv.takesForward(64, 32, 14, 14, 64, 1, 3, 3, 2, 1, 1), "stride 2");
        assertFalse(DirectConv.takesInputGrad(64, 32, 14, 14, 64, 1, 3, 3, 1, 3, 1), "padding past the window");
    }

    @Test
    void theVectorProviderGivesTheBitsOfItsOwnFoldedAndImplicitPaths() {
        Shape s = new Shape(4, 32, 14, 14, 64, 1, 3, 3, 1, 1);
        float[] x = random(9, s.images() * s.channels() * s.height() * s.width());
        float[] w = random(10, s.outputs() * s.channels() * 9);
        float[] y = new float[s.images() * s.outputs() * 196];
        VectorKernels.INSTANCE.conv2d(x, w, y, s.images(), s.channels(), 14, 14, s.outputs(), 1, 3, 3, 1, 1, 1);
        float[] expected = new float[y.length];
        ImplicitConv.forward(VectorMicroKernel.select(), x, w, expected, s.images(), s.channels(), 14, 14,
                s.outputs(), 1, 3, 3, 1, 1, 1);
        assertArrayEquals(expected, y);
    }
}
