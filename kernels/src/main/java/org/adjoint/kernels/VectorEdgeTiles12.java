package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The edge tiles of {@link VectorMicroKernel12}: the short tile of 4 rows that ends a block
 * whose rows are not a multiple of 12 (8 rows as one tile of two), and the narrow tile of one vector of columns that
 * ends a product such as the GPT's 65-column head. Same vectors, contract and order of
 * accumulation as the full tile, so the same bits; A is read at {@code aOffset + r·rowStride
 * + p·stepStride}, packed or in place. Written out as the full tile is (no helper that an
 * accumulator would escape into).
 */
final class VectorEdgeTiles12 {

    private static final VectorSpecies<Float> SPECIES = VectorMicroKernel.tallSpecies();
    private static final int LANES = SPECIES.length();
    private static final int NR = 2 * LANES;

    private VectorEdgeTiles12() {
    }

    /** {@link MicroKernel#tileShort} for {@link VectorMicroKernel12}: 4 rows, 2 vectors of columns. */
    static void tileShort(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                          float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        int a0 = aOffset;
        int a1 = aOffset + rowStride;
        int a2 = aOffset + 2 * rowStride;
        int a3 = aOffset + 3 * rowStride;
        for (int p = 0; p < kc; p++) {
            int bp = bOffset + p * NR;
            int ap = p * stepStride;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector x0 = FloatVector.broadcast(SPECIES, a[a0 + ap]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(SPECIES, a[a1 + ap]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(SPECIES, a[a2 + ap]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(SPECIES, a[a3 + ap]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
        }
        FloatVector scale = FloatVector.broadcast(SPECIES, alpha);
        if (accumulate) {
            c00.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset)).intoArray(c, cOffset);
            c01.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + LANES)).intoArray(c, cOffset + LANES);
            c10.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + ldc)).intoArray(c, cOffset + ldc);
            c11.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + ldc + LANES)).intoArray(c, cOffset + ldc + LANES);
            c20.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + LANES))
                    .intoArray(c, cOffset + 2 * ldc + LANES);
            c30.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c31.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc + LANES))
                    .intoArray(c, cOffset + 3 * ldc + LANES);
        } else {
            c00.mul(scale).intoArray(c, cOffset);
            c01.mul(scale).intoArray(c, cOffset + LANES);
            c10.mul(scale).intoArray(c, cOffset + ldc);
            c11.mul(scale).intoArray(c, cOffset + ldc + LANES);
            c20.mul(scale).intoArray(c, cOffset + 2 * ldc);
            c21.mul(scale).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.mul(scale).intoArray(c, cOffset + 3 * ldc);
            c31.mul(scale).intoArray(c, cOffset + 3 * ldc + LANES);
        }
    }

    /**
     * {@link MicroKernel#tileShortPair} for {@link VectorMicroKernel12}: 8 rows, 2 vectors of
     * columns, the two short tiles in one pass over the sliver of B. Each short tile reads its
     * 128 bytes of B a step for 8 multiply-adds, which streams B from L2 faster than the core
     * takes it in only where the sliver stays in L1; with {@code KC = 512} (a 64 KiB sliver)
     * it does not, and the GPT's weight gradients, whose 128 rows end in 8 past ten 12-row
     * tiles, spent a tenth of their tile time in the 6 % of rows the two short tiles did.
     */
    static void tileEight(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                          float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        FloatVector c60 = c00;
        FloatVector c61 = c00;
        FloatVector c70 = c00;
        FloatVector c71 = c00;
        int a0 = aOffset;
        int a1 = aOffset + rowStride;
        int a2 = aOffset + 2 * rowStride;
        int a3 = aOffset + 3 * rowStride;
        int a4 = aOffset + 4 * rowStride;
        int a5 = aOffset + 5 * rowStride;
        int a6 = aOffset + 6 * rowStride;
        int a7 = aOffset + 7 * rowStride;
        for (int p = 0; p < kc; p++) {
            int bp = bOffset + p * NR;
            int ap = p * stepStride;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector x0 = FloatVector.broadcast(SPECIES, a[a0 + ap]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(SPECIES, a[a1 + ap]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(SPECIES, a[a2 + ap]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(SPECIES, a[a3 + ap]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
            FloatVector x4 = FloatVector.broadcast(SPECIES, a[a4 + ap]);
            c40 = x4.fma(b0, c40);
            c41 = x4.fma(b1, c41);
            FloatVector x5 = FloatVector.broadcast(SPECIES, a[a5 + ap]);
            c50 = x5.fma(b0, c50);
            c51 = x5.fma(b1, c51);
            FloatVector x6 = FloatVector.broadcast(SPECIES, a[a6 + ap]);
            c60 = x6.fma(b0, c60);
            c61 = x6.fma(b1, c61);
            FloatVector x7 = FloatVector.broadcast(SPECIES, a[a7 + ap]);
            c70 = x7.fma(b0, c70);
            c71 = x7.fma(b1, c71);
        }
        FloatVector scale = FloatVector.broadcast(SPECIES, alpha);
        if (accumulate) {
            c00.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset)).intoArray(c, cOffset);
            c01.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + LANES))
                    .intoArray(c, cOffset + LANES);
            c10.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + ldc)).intoArray(c, cOffset + ldc);
            c11.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + ldc + LANES))
                    .intoArray(c, cOffset + ldc + LANES);
            c20.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + LANES))
                    .intoArray(c, cOffset + 2 * ldc + LANES);
            c30.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c31.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc + LANES))
                    .intoArray(c, cOffset + 3 * ldc + LANES);
            c40.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 4 * ldc)).intoArray(c, cOffset + 4 * ldc);
            c41.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 4 * ldc + LANES))
                    .intoArray(c, cOffset + 4 * ldc + LANES);
            c50.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 5 * ldc)).intoArray(c, cOffset + 5 * ldc);
            c51.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 5 * ldc + LANES))
                    .intoArray(c, cOffset + 5 * ldc + LANES);
            c60.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc)).intoArray(c, cOffset + 6 * ldc);
            c61.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc + LANES))
                    .intoArray(c, cOffset + 6 * ldc + LANES);
            c70.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc)).intoArray(c, cOffset + 7 * ldc);
            c71.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc + LANES))
                    .intoArray(c, cOffset + 7 * ldc + LANES);
        } else {
            c00.mul(scale).intoArray(c, cOffset);
            c01.mul(scale).intoArray(c, cOffset + LANES);
            c10.mul(scale).intoArray(c, cOffset + ldc);
            c11.mul(scale).intoArray(c, cOffset + ldc + LANES);
            c20.mul(scale).intoArray(c, cOffset + 2 * ldc);
            c21.mul(scale).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.mul(scale).intoArray(c, cOffset + 3 * ldc);
            c31.mul(scale).intoArray(c, cOffset + 3 * ldc + LANES);
            c40.mul(scale).intoArray(c, cOffset + 4 * ldc);
            c41.mul(scale).intoArray(c, cOffset + 4 * ldc + LANES);
            c50.mul(scale).intoArray(c, cOffset + 5 * ldc);
            c51.mul(scale).intoArray(c, cOffset + 5 * ldc + LANES);
            c60.mul(scale).intoArray(c, cOffset + 6 * ldc);
            c61.mul(scale).intoArray(c, cOffset + 6 * ldc + LANES);
            c70.mul(scale).intoArray(c, cOffset + 7 * ldc);
            c71.mul(scale).intoArray(c, cOffset + 7 * ldc + LANES);
        }
    }

    /** {@link MicroKernel#tileNarrow} for {@link VectorMicroKernel12}: 12 rows, one vector of columns. */
    static void tileNarrow(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                           float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
        FloatVector c0 = FloatVector.zero(SPECIES);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        FloatVector c6 = c0;
        FloatVector c7 = c0;
        FloatVector c8 = c0;
        FloatVector c9 = c0;
        FloatVector c10 = c0;
        FloatVector c11 = c0;
        int a0 = aOffset;
        int a1 = aOffset + rowStride;
        int a2 = aOffset + 2 * rowStride;
        int a3 = aOffset + 3 * rowStride;
        int a4 = aOffset + 4 * rowStride;
        int a5 = aOffset + 5 * rowStride;
        int a6 = aOffset + 6 * rowStride;
        int a7 = aOffset + 7 * rowStride;
        int a8 = aOffset + 8 * rowStride;
        int a9 = aOffset + 9 * rowStride;
        int a10 = aOffset + 10 * rowStride;
        int a11 = aOffset + 11 * rowStride;
        for (int p = 0; p < kc; p++) {
            int ap = p * stepStride;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bOffset + p * NR);
            c0 = FloatVector.broadcast(SPECIES, a[a0 + ap]).fma(b0, c0);
            c1 = FloatVector.broadcast(SPECIES, a[a1 + ap]).fma(b0, c1);
            c2 = FloatVector.broadcast(SPECIES, a[a2 + ap]).fma(b0, c2);
            c3 = FloatVector.broadcast(SPECIES, a[a3 + ap]).fma(b0, c3);
            c4 = FloatVector.broadcast(SPECIES, a[a4 + ap]).fma(b0, c4);
            c5 = FloatVector.broadcast(SPECIES, a[a5 + ap]).fma(b0, c5);
            c6 = FloatVector.broadcast(SPECIES, a[a6 + ap]).fma(b0, c6);
            c7 = FloatVector.broadcast(SPECIES, a[a7 + ap]).fma(b0, c7);
            c8 = FloatVector.broadcast(SPECIES, a[a8 + ap]).fma(b0, c8);
            c9 = FloatVector.broadcast(SPECIES, a[a9 + ap]).fma(b0, c9);
            c10 = FloatVector.broadcast(SPECIES, a[a10 + ap]).fma(b0, c10);
            c11 = FloatVector.broadcast(SPECIES, a[a11 + ap]).fma(b0, c11);
        }
        FloatVector scale = FloatVector.broadcast(SPECIES, alpha);
        if (accumulate) {
            c0.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset)).intoArray(c, cOffset);
            c1.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + ldc)).intoArray(c, cOffset + ldc);
            c2.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c3.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c4.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 4 * ldc)).intoArray(c, cOffset + 4 * ldc);
            c5.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 5 * ldc)).intoArray(c, cOffset + 5 * ldc);
            c6.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc)).intoArray(c, cOffset + 6 * ldc);
            c7.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc)).intoArray(c, cOffset + 7 * ldc);
            c8.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 8 * ldc)).intoArray(c, cOffset + 8 * ldc);
            c9.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 9 * ldc)).intoArray(c, cOffset + 9 * ldc);
            c10.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 10 * ldc)).intoArray(c, cOffset + 10 * ldc);
            c11.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 11 * ldc)).intoArray(c, cOffset + 11 * ldc);
        } else {
            c0.mul(scale).intoArray(c, cOffset);
            c1.mul(scale).intoArray(c, cOffset + ldc);
            c2.mul(scale).intoArray(c, cOffset + 2 * ldc);
            c3.mul(scale).intoArray(c, cOffset + 3 * ldc);
            c4.mul(scale).intoArray(c, cOffset + 4 * ldc);
            c5.mul(scale).intoArray(c, cOffset + 5 * ldc);
            c6.mul(scale).intoArray(c, cOffset + 6 * ldc);
            c7.mul(scale).intoArray(c, cOffset + 7 * ldc);
            c8.mul(scale).intoArray(c, cOffset + 8 * ldc);
            c9.mul(scale).intoArray(c, cOffset + 9 * ldc);
            c10.mul(scale).intoArray(c, cOffset + 10 * ldc);
            c11.mul(scale).intoArray(c, cOffset + 11 * ldc);
        }
    }
}
