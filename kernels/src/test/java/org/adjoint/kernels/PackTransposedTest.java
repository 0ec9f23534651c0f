package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The vector tiles' {@link MicroKernel#packTransposed} (8 × 8 register transposes) against the
 * interface's one-value-at-a-time default: the same packed sliver, zero columns included, for
 * every column count up to the tile's and depths around multiples of 8, at an offset and with
 * values already in the destination. Likewise {@link MicroKernel#packColumns} (a transposed
 * A's slivers; the 12-row tile's own vector loop) against the default's array copies.
 */
class PackTransposedTest {

    private static final MicroKernel[] VECTOR_TILES = {VectorMicroKernel.INSTANCE, VectorMicroKernel12.INSTANCE,
            VectorMicroKernel3.INSTANCE};

    /** Values drawn from [−1, 1). */
    private static float[] drawn(SplittableRandom random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return values;
    }

    /** A destination whose every value is NaN, so that what a packing leaves alone shows. */
    private static float[] nans(int length) {
        float[] values = new float[length];
        java.util.Arrays.fill(values, Float.NaN);
        return values;
    }

    private static MicroKernel scalarTwin(MicroKernel kernel) {
        return new MicroKernel() {
            @Override
            public int rows() {
                return kernel.rows();
            }

            @Override
            public int columns() {
                return kernel.columns();
            }

            @Override
            public void tile(int kc, float[] a, int aOffset, float[] b, int bOffset, float alpha, float[] c,
                             int cOffset, int ldc, boolean accumulate) {
                throw new UnsupportedOperationException("packing only");
            }
        };
    }

    @Test
    void vectorTilesPackAsTheDefault() {
        SplittableRandom random = new SplittableRandom(23);
        for (MicroKernel kernel : VECTOR_TILES) {
            MicroKernel twin = scalarTwin(kernel);
            int nr = kernel.columns();
            for (int cols = 1; cols <= nr; cols++) {
                for (int kc : new int[] {1, 7, 8, 9, 16, 33, 128}) {
                    int ldb = kc + 5;
                    int at = 3;
                    float[] b = drawn(random, at + cols * ldb);
                    int base = 7;
                    float[] expected = nans(base + nr * kc + 4);
                    float[] actual = expected.clone();
                    twin.packTransposed(b, at, ldb, cols, kc, expected, base);
                    kernel.packTransposed(b, at, ldb, cols, kc, actual, base);
                    assertArrayEquals(expected, actual, kernel.getClass().getSimpleName() + " cols=" + cols + " kc=" + kc);
                }
            }
        }
    }

    @Test
    void vectorTilesPackTransposedSliversAsTheDefault() {
        SplittableRandom random = new SplittableRandom(29);
        for (MicroKernel kernel : VECTOR_TILES) {
            MicroKernel twin = scalarTwin(kernel);
            int mr = kernel.rows();
            for (int slivers = 1; slivers <= 4; slivers++) {
                for (int kc : new int[] {1, 7, 16, 17, 33}) {
                    for (int steps : new int[] {1, 5, 16}) {
                        // Storage rows longer than the slivers, which start past the row's first value.
                        int lda = slivers * mr + 5;
                        int at = 3;
                        float[] a = drawn(random, at + kc * lda);
                        int base = 7;
                        float[] expected = nans(base + slivers * mr * kc + 4);
                        float[] actual = expected.clone();
                        twin.packColumns(a, at, lda, slivers, kc, steps, expected, base);
                        for (int q = 0; q < slivers; q++) {
                            for (int p = 0; p < kc; p++) {
                                for (int r = 0; r < mr; r++) {
                                    if (expected[base + q * mr * kc + p * mr + r] != a[at + p * lda + q * mr + r]) {
                                        throw new AssertionError("default layout at sliver " + q + " step " + p
                                                + " row " + r);
                                    }
                                }
                            }
                        }
                        kernel.packColumns(a, at, lda, slivers, kc, steps, actual, base);
                        assertArrayEquals(expected, actual, kernel.getClass().getSimpleName() + " slivers=" + slivers
                                + " kc=" + kc + " steps=" + steps);
                    }
                }
            }
        }
    }
}
