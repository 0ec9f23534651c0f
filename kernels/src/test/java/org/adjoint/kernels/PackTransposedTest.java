package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The vector tiles' {@link MicroKernel#packTransposed} (8 × 8 register transposes) against the
 * interface's one-value-at-a-time default: the same packed sliver, zero columns included, for
 * every column count up to the tile's and depths around multiples of 8, at an offset and with
 * values already in the destination.
 */
class PackTransposedTest {

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
        for (MicroKernel kernel : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel12.INSTANCE,
                VectorMicroKernel3.INSTANCE}) {
            MicroKernel twin = scalarTwin(kernel);
            int nr = kernel.columns();
            for (int cols = 1; cols <= nr; cols++) {
                for (int kc : new int[] {1, 7, 8, 9, 16, 33, 128}) {
                    int ldb = kc + 5;
                    int at = 3;
                    float[] b = new float[at + cols * ldb];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = (float) random.nextDouble(-1, 1);
                    }
                    int base = 7;
                    float[] expected = new float[base + nr * kc + 4];
                    java.util.Arrays.fill(expected, Float.NaN);
                    float[] actual = expected.clone();
                    twin.packTransposed(b, at, ldb, cols, kc, expected, base);
                    kernel.packTransposed(b, at, ldb, cols, kc, actual, base);
                    assertArrayEquals(expected, actual, kernel.getClass().getSimpleName() + " cols=" + cols + " kc=" + kc);
                }
            }
        }
    }
}
