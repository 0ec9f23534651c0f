package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link MicroKernel#tileShortPair}: the 12-row tile's 8-row pass gives, bit for bit, what its
 * two 4-row short tiles give one after the other (the interface's default), for A packed, in
 * place by rows and in place transposed, writing C and adding to it, and touches no element
 * of C outside its 8 rows and the sliver's columns.
 */
class ShortTilePairTest {

    private static final float SENTINEL = -7.25f;

    @Test
    void theTwelveRowTilesPairHasTheBitsOfItsTwoShortTiles() {
        MicroKernel tile = VectorMicroKernel12.INSTANCE;
        int rows = 2 * tile.shortRows();
        int nr = tile.columns();
        SplittableRandom random = new SplittableRandom(17);
        for (int kc : new int[] {1, 7, 64, 512}) {
            // {rowStride, stepStride, length of A}: packed (a 12-row sliver), rows in place, transposed in place.
            int lda = kc + 3;
            int[][] layouts = {{1, tile.rows(), kc * tile.rows()}, {lda, 1, rows * lda},
                {1, rows + 5, kc * (rows + 5)}};
            for (int[] layout : layouts) {
                float[] a = random(random, layout[2] + 2);
                float[] b = random(random, kc * nr + 3);
                for (boolean accumulate : new boolean[] {false, true}) {
                    int ldc = nr + 9;
                    float[] start = random(random, (rows + 2) * ldc);
                    for (int r = 0; r < rows + 2; r++) {
                        for (int j = nr; j < ldc; j++) {
                            start[r * ldc + j] = SENTINEL;
                        }
                    }
                    for (int j = 0; j < ldc; j++) {
                        start[(rows + 1) * ldc + j] = SENTINEL;
                    }
                    float[] pair = start.clone();
                    float[] two = start.clone();
                    tile.tileShortPair(kc, a, 2, layout[0], layout[1], b, 3, 0.7f, pair, 0, ldc, accumulate);
                    new MicroKernel() {
                        @Override
                        public int rows() {
                            return tile.rows();
                        }

                        @Override
                        public int columns() {
                            return nr;
                        }

                        @Override
                        public int shortRows() {
                            return tile.shortRows();
                        }

                        @Override
                        public void tile(int kc, float[] a, int aOffset, float[] b, int bOffset, float alpha,
                                         float[] c, int cOffset, int ldc, boolean accumulate) {
                            throw new AssertionError("not called");
                        }

                        @Override
                        public void tileShort(int kc, float[] a, int aOffset, int rowStride, int stepStride,
                                              float[] b, int bOffset, float alpha, float[] c, int cOffset, int ldc,
                                              boolean accumulate) {
                            tile.tileShort(kc, a, aOffset, rowStride, stepStride, b, bOffset, alpha, c, cOffset, ldc,
                                    accumulate);
                        }
                    }.tileShortPair(kc, a, 2, layout[0], layout[1], b, 3, 0.7f, two, 0, ldc, accumulate);
                    for (int i = 0; i < pair.length; i++) {
                        if (Float.floatToRawIntBits(pair[i]) != Float.floatToRawIntBits(two[i])) {
                            fail("kc=" + kc + " layout " + layout[0] + "/" + layout[1] + " accumulate=" + accumulate
                                    + ": element (" + i / ldc + ", " + i % ldc + ") is " + pair[i] + " in one pass and "
                                    + two[i] + " as two short tiles");
                        }
                        boolean outside = i % ldc >= nr || i / ldc >= rows;
                        if (outside) {
                            assertEquals(start[i], pair[i], "element " + i + " outside the tile was written");
                        }
                    }
                }
            }
        }
    }

    private static float[] random(SplittableRandom random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (random.nextDouble() - 0.5);
        }
        return values;
    }
}
