package org.adjoint.kernels;

/**
 * The innermost loop of {@link PackedGemm}: one {@code rows() × columns()} tile of C from a
 * packed sliver of A ({@code rows()} values per step of k) and one of B ({@code columns()}
 * values per step of k). Implementations differ only in how they compute; the blocking
 * around them is shared, which keeps the vector and scalar providers comparable.
 */
interface MicroKernel {

    /**
     * Rows of the register tile.
     *
     * @return MR
     */
    int rows();

    /**
     * Columns of the register tile.
     *
     * @return NR
     */
    int columns();

    /**
     * Copies {@code columns()} values from {@code src} to {@code dst}: one step of k of a
     * packed B sliver. A kernel copies with its own vectors; {@code System.arraycopy} and a
     * plain loop both cost more than the copy itself at 16 or 32 values.
     *
     * @param src       source
     * @param srcOffset first value read
     * @param dst       destination
     * @param dstOffset first value written
     */
    default void copyRow(float[] src, int srcOffset, float[] dst, int dstOffset) {
        System.arraycopy(src, srcOffset, dst, dstOffset, columns());
    }

    /**
     * Packs {@code slivers} full slivers of a transposed A (stored {@code k × m}, its rows
     * {@code lda} apart): {@code pack[base + s·rows()·kc + p·rows() + r] = a[at + p·lda +
     * s·rows() + r]}. The default takes {@code steps} steps of k across all the slivers at a time
     * (see {@code GemmPacking.TRANSPOSED_PACK_STEPS}), one array copy of {@code rows()} values
     * each; the 12-row tile copies with its own vectors in a loop of its own
     * ({@link VectorMicroKernel12} says why not one call a step).
     *
     * @param a       the matrix, stored transposed
     * @param at      the first sliver's first value
     * @param lda     between storage rows of {@code a} (steps of k)
     * @param slivers full slivers to pack
     * @param kc      steps of k
     * @param steps   steps of k taken across all the slivers before the next ones
     * @param pack    destination
     * @param base    where the first sliver starts in it
     */
    default void packColumns(float[] a, int at, int lda, int slivers, int kc, int steps, float[] pack, int base) {
        int mr = rows();
        for (int p0 = 0; p0 < kc; p0 += steps) {
            int pEnd = Math.min(kc, p0 + steps);
            for (int s = 0; s < slivers; s++) {
                for (int p = p0; p < pEnd; p++) {
                    System.arraycopy(a, at + p * lda + s * mr, pack, base + s * mr * kc + p * mr, mr);
                }
            }
        }
    }

    /**
     * Packs a full sliver of a row-major A: {@code pack[base + p·rows() + r] = a[at + r·lda + p]}
     * for {@code r < rows()}, {@code p < kc}. The default copies one value at a time.
     *
     * @param a    the matrix
     * @param at   the sliver's first value
     * @param lda  between rows of {@code a}
     * @param kc   the sliver's depth
     * @param pack destination
     * @param base where the sliver starts in it
     */
    default void packRows(float[] a, int at, int lda, int kc, float[] pack, int base) {
        int mr = rows();
        for (int r = 0; r < mr; r++) {
            int src = at + r * lda;
            for (int p = 0; p < kc; p++) {
                pack[base + p * mr + r] = a[src + p];
            }
        }
    }

    /**
     * Packs a sliver of a transposed B: {@code pack[base + p·columns() + j] = b[at + j·ldb + p]}
     * for {@code j < cols}, {@code p < kc}, and zeros in columns {@code cols} to
     * {@code columns()}: B's columns lie along its storage rows, so each step of k gathers one
     * value from each of {@code cols} rows. The default copies one value at a time.
     *
     * @param b    the matrix, stored transposed
     * @param at   the sliver's first value (column 0, step 0)
     * @param ldb  between the storage rows of {@code b} (columns of op(B))
     * @param cols the sliver's columns, at most {@code columns()}
     * @param kc   the sliver's depth
     * @param pack destination
     * @param base where the sliver starts in it
     */
    default void packTransposed(float[] b, int at, int ldb, int cols, int kc, float[] pack, int base) {
        int nr = columns();
        for (int j = 0; j < cols; j++) {
            int src = at + j * ldb;
            for (int p = 0; p < kc; p++) {
                pack[base + p * nr + j] = b[src + p];
            }
        }
        for (int j = cols; j < nr; j++) {
            for (int p = 0; p < kc; p++) {
                pack[base + p * nr + j] = 0f;
            }
        }
    }

    /**
     * {@code C[0:rows, 0:columns] += alpha · Σ_p A[p] ⊗ B[p]} for a full tile, or {@code =}
     * when not accumulating (C is then only written, never read).
     *
     * @param kc      steps of k
     * @param a       packed A: {@code rows()} values per step
     * @param aOffset first value
     * @param b       packed B: {@code columns()} values per step
     * @param bOffset first value
     * @param alpha   scale of the product
     * @param c       output
     * @param cOffset top-left element of the tile
     * @param ldc        elements between rows of C
     * @param accumulate whether to add to C's contents instead of overwriting them
     */
    void tile(int kc, float[] a, int aOffset, float[] b, int bOffset, float alpha, float[] c, int cOffset, int ldc,
              boolean accumulate);

    /**
     * Whether {@link PackedGemm} zeroes a block of C row by row before this tile's first block
     * of k overwrites it ({@code PackedGemm.prewrite}, where C's row stride is at least 1 KiB
     * and the block fits in half the L2 cache): for a tile whose stores miss badly on a C that
     * no cache holds. The default is false.
     *
     * @return true to have C's blocks zeroed ahead of the tiles
     */
    default boolean prewritesC() {
        return false;
    }

    /**
     * Whether {@link #tileRows} reads A in place. {@link PackedGemm} then leaves a
     * non-transposed A unpacked, except for a last block of fewer than {@code rows()} rows.
     *
     * @return true when {@link #tileRows} is implemented
     */
    default boolean readsRows() {
        return false;
    }

    /**
     * {@link #tile} with A read where it lies instead of from a packed sliver: row {@code r} of
     * the tile is the {@code kc} consecutive values from {@code aOffset + r·lda}. The same
     * fused multiply-adds in the same order as {@link #tile}, so the same bits; only for
     * kernels whose {@link #readsRows()} is true.
     *
     * @param kc         steps of k
     * @param a          A, row-major
     * @param aOffset    the tile's first value of A
     * @param lda        elements between rows of A
     * @param b          packed B: {@code columns()} values per step
     * @param bOffset    first value
     * @param alpha      scale of the product
     * @param c          output
     * @param cOffset    top-left element of the tile
     * @param ldc        elements between rows of C
     * @param accumulate whether to add to C's contents instead of overwriting them
     */
    default void tileRows(int kc, float[] a, int aOffset, int lda, float[] b, int bOffset, float alpha, float[] c,
                          int cOffset, int ldc, boolean accumulate) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " reads only packed slivers of A");
    }

    /**
     * The widest panel of B, in columns, for which {@link #tileColumns} reads a transposed A
     * in place: {@link PackedGemm} then leaves such an A (with short storage rows) unpacked,
     * except for a last block of fewer than {@code rows()} rows that short tiles do not divide.
     * Reading in place saves packing A, once per block of A and thread; packing pays where
     * many slivers of B share the packed block, and the more so the less of each cache line
     * of A a tile step uses.
     *
     * @return columns; 0 where {@link #tileColumns} is not implemented
     */
    default int transposedInPlaceColumns() {
        return 0;
    }

    /**
     * {@link #tile} with a transposed A read where it lies: step {@code p} of the tile's rows
     * is the {@code rows()} consecutive values from {@code aOffset + p·lda} (a packed sliver is
     * the same with {@code lda = rows()}). The same fused multiply-adds in the same order as
     * {@link #tile}, so the same bits; only for kernels whose {@link #transposedInPlaceColumns()} is positive.
     *
     * @param kc         steps of k
     * @param a          A, stored transposed ({@code k} rows of {@code m})
     * @param aOffset    the tile's first value of A
     * @param lda        elements between steps of k in A
     * @param b          packed B: {@code columns()} values per step
     * @param bOffset    first value
     * @param alpha      scale of the product
     * @param c          output
     * @param cOffset    top-left element of the tile
     * @param ldc        elements between rows of C
     * @param accumulate whether to add to C's contents instead of overwriting them
     */
    default void tileColumns(int kc, float[] a, int aOffset, int lda, float[] b, int bOffset, float alpha, float[] c,
                             int cOffset, int ldc, boolean accumulate) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " reads only packed slivers of A");
    }

    /**
     * Rows of the short tile ({@link #tileShort}) that finishes a block whose rows are not a
     * multiple of {@link #rows()}, or 0 when this kernel has none.
     *
     * @return the short tile's rows, dividing {@link #rows()}, or 0
     */
    default int shortRows() {
        return 0;
    }

    /**
     * A tile of {@link #shortRows()} rows and {@link #columns()} columns, with the same fused
     * multiply-adds in the same order as {@link #tile}, so the same bits: row {@code r}'s value
     * at step {@code p} of A is {@code a[aOffset + r·rowStride + p·stepStride]} (a packed
     * sliver: 1 and {@code rows()}; rows in place: {@code lda} and 1). Only for kernels whose
     * {@link #shortRows()} is not 0.
     *
     * @param kc         steps of k
     * @param a          A
     * @param aOffset    the tile's first value of A
     * @param rowStride  elements between rows of A
     * @param stepStride elements between steps of k in A
     * @param b          packed B
     * @param bOffset    the sliver of B
     * @param alpha      scale of the product
     * @param c          C
     * @param cOffset    the tile's first element of C
     * @param ldc        elements between rows of C
     * @param accumulate whether to add to C instead of overwriting it
     */
    default void tileShort(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                           float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no short tile");
    }

    /**
     * Two short tiles, one above the other: {@code 2·shortRows()} rows, each as
     * {@link #tileShort} computes it (the same bits), the second's A and C
     * {@code shortRows()} rows further on. By default the two calls; a kernel may do both in
     * one pass over the sliver of B. Only for kernels whose {@link #shortRows()} is not 0.
     *
     * @param kc         steps of k
     * @param a          A
     * @param aOffset    the first tile's first value of A
     * @param rowStride  elements between rows of A
     * @param stepStride elements between steps of k in A
     * @param b          packed B
     * @param bOffset    the sliver of B
     * @param alpha      scale of the product
     * @param c          C
     * @param cOffset    the first tile's first element of C
     * @param ldc        elements between rows of C
     * @param accumulate whether to add to C instead of overwriting it
     */
    default void tileShortPair(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                               float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
        int rows = shortRows();
        tileShort(kc, a, aOffset, rowStride, stepStride, b, bOffset, alpha, c, cOffset, ldc, accumulate);
        tileShort(kc, a, aOffset + rows * rowStride, rowStride, stepStride, b, bOffset, alpha, c, cOffset + rows * ldc,
                ldc, accumulate);
    }

    /**
     * Columns of the narrow tile ({@link #tileNarrow}) that computes a last sliver of at most
     * that many columns (through a buffer when fewer), or 0 when this kernel has none (such a
     * sliver then runs as a full tile through the buffer).
     *
     * @return the narrow tile's columns, at most {@link #columns()}, or 0
     */
    default int narrowColumns() {
        return 0;
    }

    /**
     * A tile of {@link #rows()} rows and {@link #narrowColumns()} columns, the first of a
     * sliver of B, with the same fused multiply-adds in the same order as {@link #tile}, so the
     * same bits; A read as {@link #tileShort} reads it. Only for kernels whose
     * {@link #narrowColumns()} is not 0.
     *
     * @param kc         steps of k
     * @param a          A
     * @param aOffset    the tile's first value of A
     * @param rowStride  elements between rows of A
     * @param stepStride elements between steps of k in A
     * @param b          packed B: {@code columns()} values per step, of which the first {@code narrowColumns()} are used
     * @param bOffset    the sliver of B
     * @param alpha      scale of the product
     * @param c          C
     * @param cOffset    the tile's first element of C
     * @param ldc        elements between rows of C
     * @param accumulate whether to add to C instead of overwriting it
     */
    default void tileNarrow(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                            float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no narrow tile");
    }
}
