package org.adjoint.kernels;

/**
 * The tiles of one block of C for {@link PackedGemm}: full tiles from packed or in-place A,
 * and the edges (short tiles where the kernel has them, narrow tiles for a last sliver of few
 * columns, the rest through a small buffer), each element one chain of fused multiply-adds
 * whatever the tile. What block a thread computes, and where its A and B come from, is
 * {@link PackedGemm}'s part.
 */
final class GemmBlock {

    private static final ThreadLocal<float[]> EDGE = new ThreadLocal<>();

    private GemmBlock() {
    }

    /**
     * The tiles of one block of C from slivers [firstSliver, endSliver) of the packed panel. A is
     * {@code aPack} from {@code aBase} (MR-tall slivers), or, where {@code aRows} is not null,
     * read in place from {@code aRows} (the block's first value at {@code aRowsOffset}, its rows
     * {@code rowStride} apart and its steps of k {@code stepStride} apart: one of them is 1) for
     * whole tiles, with only the rows past the last of them packed at {@code aBase}.
     */
    static void tiles(MicroKernel kernel, int mc, int nc, int kc, int firstSliver, int endSliver,
                                    float alpha, boolean accumulate, float[] aPack, int aBase, float[] aRows,
                                    int aRowsOffset, int rowStride, int stepStride, float[] bPack, int bBase,
                                    float[] c, int cOffset, int ldc) {
        int mr = kernel.rows();
        int nr = kernel.columns();
        for (int s = firstSliver; s < endSliver; s++) {
            int jr = s * nr;
            int cols = Math.min(nr, nc - jr);
            for (int ir = 0; ir < mc; ir += mr) {
                int rows = Math.min(mr, mc - ir);
                int cTile = cOffset + ir * ldc + jr;
                if (rows < mr && shortTiles(kernel, rows)) {
                    int shortRows = kernel.shortRows();
                    for (int sr = 0; sr < rows; ) {
                        // Two short tiles in one pass where both are whole (8 rows past the 12-row tiles).
                        boolean pair = cols == nr && rows - sr >= 2 * shortRows;
                        int aAt = aRows != null ? aRowsOffset + (ir + sr) * rowStride : aBase + ir * kc + sr;
                        int betweenRows = aRows != null ? rowStride : 1;
                        int betweenSteps = aRows != null ? stepStride : mr;
                        float[] aFrom = aRows != null ? aRows : aPack;
                        int cShort = cTile + sr * ldc;
                        if (pair) {
                            kernel.tileShortPair(kc, aFrom, aAt, betweenRows, betweenSteps, bPack, bBase + jr * kc,
                                    alpha, c, cShort, ldc, accumulate);
                        } else if (cols == nr) {
                            kernel.tileShort(kc, aFrom, aAt, betweenRows, betweenSteps, bPack, bBase + jr * kc, alpha,
                                    c, cShort, ldc, accumulate);
                        } else {
                            float[] edge = PackedGemm.buffer(EDGE, mr * nr);
                            if (accumulate) {
                                for (int r = 0; r < shortRows; r++) {
                                    System.arraycopy(c, cShort + r * ldc, edge, r * nr, cols);
                                }
                            }
                            kernel.tileShort(kc, aFrom, aAt, betweenRows, betweenSteps, bPack, bBase + jr * kc, alpha,
                                    edge, 0, nr, accumulate);
                            for (int r = 0; r < shortRows; r++) {
                                System.arraycopy(edge, r * nr, c, cShort + r * ldc, cols);
                            }
                        }
                        sr += pair ? 2 * shortRows : shortRows;
                    }
                    continue;
                }
                boolean inPlace = aRows != null && rows == mr;
                int aTile = aBase + (aRows == null ? ir * kc : 0);
                if (rows == mr && cols <= kernel.narrowColumns()) {
                    // A last sliver of a few columns (the GPT head's 65th) as one vector a row,
                    // not a full tile, through the edge buffer unless it is exactly that wide.
                    narrowTile(kernel, cols, kc, inPlace ? aRows : aPack,
                            inPlace ? aRowsOffset + ir * rowStride : aTile, inPlace ? rowStride : 1,
                            inPlace ? stepStride : mr, bPack, bBase + jr * kc, alpha, c, cTile, ldc, accumulate);
                } else if (rows == mr && cols == nr) {
                    if (inPlace) {
                        inPlaceTile(kernel, kc, aRows, aRowsOffset + ir * rowStride, rowStride, stepStride, bPack,
                                bBase + jr * kc, alpha, c, cTile, ldc, accumulate);
                    } else {
                        kernel.tile(kc, aPack, aTile, bPack, bBase + jr * kc, alpha, c, cTile, ldc, accumulate);
                    }
                } else {
                    // The edge tile accumulates into a copy of C with the kernel's own fused
                    // multiply-add, as a full tile does: adding its product to C here would round
                    // twice, and which elements sit in an edge tile depends on the tile's shape,
                    // so results would change with the tile chosen for the machine.
                    float[] edge = PackedGemm.buffer(EDGE, mr * nr);
                    if (accumulate) {
                        for (int r = 0; r < rows; r++) {
                            System.arraycopy(c, cTile + r * ldc, edge, r * nr, cols);
                        }
                    }
                    if (inPlace) {
                        inPlaceTile(kernel, kc, aRows, aRowsOffset + ir * rowStride, rowStride, stepStride, bPack,
                                bBase + jr * kc, alpha, edge, 0, nr, accumulate);
                    } else {
                        kernel.tile(kc, aPack, aTile, bPack, bBase + jr * kc, alpha, edge, 0, nr, accumulate);
                    }
                    for (int r = 0; r < rows; r++) {
                        System.arraycopy(edge, r * nr, c, cTile + r * ldc, cols);
                    }
                }
            }
        }
    }

    /**
     * {@link MicroKernel#tileNarrow} on the first {@code cols} columns of a full-height tile
     * of C, directly when they are the narrow tile's width, else through the edge buffer.
     */
    private static void narrowTile(MicroKernel kernel, int cols, int kc, float[] a, int aOffset, int rowStride,
                                   int stepStride, float[] b, int bOffset, float alpha, float[] c, int cOffset,
                                   int ldc, boolean accumulate) {
        int narrow = kernel.narrowColumns();
        if (cols == narrow) {
            kernel.tileNarrow(kc, a, aOffset, rowStride, stepStride, b, bOffset, alpha, c, cOffset, ldc, accumulate);
            return;
        }
        int mr = kernel.rows();
        float[] edge = PackedGemm.buffer(EDGE, mr * narrow);
        if (accumulate) {
            for (int r = 0; r < mr; r++) {
                System.arraycopy(c, cOffset + r * ldc, edge, r * narrow, cols);
            }
        }
        kernel.tileNarrow(kc, a, aOffset, rowStride, stepStride, b, bOffset, alpha, edge, 0, narrow, accumulate);
        for (int r = 0; r < mr; r++) {
            System.arraycopy(edge, r * narrow, c, cOffset + r * ldc, cols);
        }
    }

    /** A full tile with A in place: {@link MicroKernel#tileRows}, or {@link MicroKernel#tileColumns} (transposed). */
    private static void inPlaceTile(MicroKernel kernel, int kc, float[] a, int aOffset, int rowStride, int stepStride,
                                    float[] b, int bOffset, float alpha, float[] c, int cOffset, int ldc,
                                    boolean accumulate) {
        if (stepStride == 1) {
            kernel.tileRows(kc, a, aOffset, rowStride, b, bOffset, alpha, c, cOffset, ldc, accumulate);
        } else {
            kernel.tileColumns(kc, a, aOffset, stepStride, b, bOffset, alpha, c, cOffset, ldc, accumulate);
        }
    }

    /**
     * Whether a last tile of {@code rows} rows, fewer than the kernel's, runs as the kernel's
     * short tiles (same bits) instead of a full tile through the edge buffer.
     */
    static boolean shortTiles(MicroKernel kernel, int rows) {
        int shortRows = kernel.shortRows();
        return shortRows > 0 && rows % shortRows == 0;
    }
}
