package org.adjoint.kernels;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Transposes of row-major blocks in 8 × 8 tiles held in registers: eight rows loaded as
 * vectors, three rounds of two-vector lane selections (pairs of lanes, pairs of pairs,
 * halves), eight columns stored as vectors; instead of 64 scalar loads and stores with a
 * strided store each. Values are only moved, so the result is the same as a scalar copy's.
 * Rows and columns beyond whole tiles are copied one value at a time.
 */
final class VectorTranspose {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    /** The tile's side, the lanes of {@link #S}. */
    static final int TILE = 8;
    /**
     * Whether the tiles are worth it: 256-bit vectors in hardware (AVX2, AVX-512). With
     * narrower ones the Vector API would emulate {@link #S}, far slower than the scalar copy.
     */
    static final boolean ENABLED = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    /* Lane selections over the concatenation of two vectors (lanes 8 to 15 are the second's). */
    private static final FloatVector PAIRS_LOW = indices(0, 8, 1, 9, 2, 10, 3, 11);
    private static final FloatVector PAIRS_HIGH = indices(4, 12, 5, 13, 6, 14, 7, 15);
    private static final FloatVector QUADS_LOW = indices(0, 1, 8, 9, 2, 3, 10, 11);
    private static final FloatVector QUADS_HIGH = indices(4, 5, 12, 13, 6, 7, 14, 15);
    private static final FloatVector HALVES_LOW = indices(0, 1, 2, 3, 8, 9, 10, 11);
    private static final FloatVector HALVES_HIGH = indices(4, 5, 6, 7, 12, 13, 14, 15);

    private VectorTranspose() {
    }

    private static FloatVector indices(float... lanes) {
        return FloatVector.fromArray(S, lanes, 0);
    }

    /**
     * B's sliver for {@link MicroKernel#packTransposed} ({@link #packSliver} packs A's): the
     * {@code cols ≤ nr} rows of {@code b} (each {@code kc} long, {@code ldb} apart) transposed
     * into {@code kc} rows of {@code nr}, the columns past {@code cols} zero.
     */
    static void packPadded(float[] b, int at, int ldb, int cols, int kc, float[] pack, int base, int nr) {
        transpose(b, at, ldb, cols, kc, pack, base, nr);
        if (cols < nr) {
            for (int p = 0; p < kc; p++) {
                Arrays.fill(pack, base + p * nr + cols, base + (p + 1) * nr, 0f);
            }
        }
    }

    /**
     * {@code dst[dstOffset + c·ld + r] = src[srcOffset + r·stride + c]} for {@code r < rows},
     * {@code c < cols}.
     *
     * @param src       source rows
     * @param srcOffset first source value
     * @param stride    between source rows
     * @param rows      source rows (destination columns)
     * @param cols      source columns (destination rows)
     * @param dst       destination
     * @param dstOffset first destination value
     * @param ld        between destination rows
     */
    static void transpose(float[] src, int srcOffset, int stride, int rows, int cols, float[] dst, int dstOffset,
                          int ld) {
        int wholeRows = ENABLED ? rows - rows % TILE : 0;
        int wholeCols = ENABLED ? cols - cols % TILE : 0;
        for (int r = 0; r < wholeRows; r += TILE) {
            for (int c = 0; c < wholeCols; c += TILE) {
                tile(src, srcOffset + r * stride + c, stride, dst, dstOffset + c * ld + r, ld);
            }
            scalar(src, srcOffset + r * stride, stride, TILE, wholeCols, cols, dst, dstOffset + r, ld);
        }
        scalar(src, srcOffset + wholeRows * stride, stride, rows - wholeRows, 0, cols, dst, dstOffset + wholeRows, ld);
    }

    /**
     * A GEMM's sliver of A: {@code pack[base + p·rows + r] = a[at + r·lda + p]} for
     * {@code r < rows}, {@code p < kc}, with {@code rows} at least {@link #TILE} (the 12-row
     * register tile's slivers). Tiles of eight rows from the top, and one more ending at the
     * last row where {@code rows} is not a multiple of eight (it overlaps the one before and
     * writes the same values there); the last {@code kc mod 8} columns one value at a time.
     *
     * @param a    the matrix, row-major
     * @param at   its first value of the sliver
     * @param lda  between its rows
     * @param rows the sliver's height, at least {@link #TILE}
     * @param kc   the sliver's depth
     * @param pack destination
     * @param base the sliver's first value there
     */
    static void packSliver(float[] a, int at, int lda, int rows, int kc, float[] pack, int base) {
        int whole = ENABLED && rows >= TILE ? kc - kc % TILE : 0;
        for (int p = 0; p < whole; p += TILE) {
            for (int r = 0; r < rows; r += TILE) {
                int top = Math.min(r, rows - TILE);
                tile(a, at + top * lda + p, lda, pack, base + p * rows + top, rows);
            }
        }
        for (int r = 0; r < rows; r++) {
            int src = at + r * lda;
            for (int p = whole; p < kc; p++) {
                pack[base + p * rows + r] = a[src + p];
            }
        }
    }

    private static void scalar(float[] src, int at, int stride, int rows, int c0, int c1, float[] dst, int to,
                               int ld) {
        for (int r = 0; r < rows; r++) {
            int from = at + r * stride;
            for (int c = c0; c < c1; c++) {
                dst[to + c * ld + r] = src[from + c];
            }
        }
    }

    /** One 8 × 8 tile: {@code dst[to + c·ld + r] = src[at + r·stride + c]}. */
    static void tile(float[] src, int at, int stride, float[] dst, int to, int ld) {
        FloatVector r0 = FloatVector.fromArray(S, src, at);
        FloatVector r1 = FloatVector.fromArray(S, src, at + stride);
        FloatVector r2 = FloatVector.fromArray(S, src, at + 2 * stride);
        FloatVector r3 = FloatVector.fromArray(S, src, at + 3 * stride);
        FloatVector r4 = FloatVector.fromArray(S, src, at + 4 * stride);
        FloatVector r5 = FloatVector.fromArray(S, src, at + 5 * stride);
        FloatVector r6 = FloatVector.fromArray(S, src, at + 6 * stride);
        FloatVector r7 = FloatVector.fromArray(S, src, at + 7 * stride);
        // Lanes (row, column): after the pairs round t0 = (0,0) (1,0) (0,1) (1,1) (0,2) (1,2) (0,3) (1,3).
        FloatVector t0 = PAIRS_LOW.selectFrom(r0, r1);
        FloatVector t1 = PAIRS_HIGH.selectFrom(r0, r1);
        FloatVector t2 = PAIRS_LOW.selectFrom(r2, r3);
        FloatVector t3 = PAIRS_HIGH.selectFrom(r2, r3);
        FloatVector t4 = PAIRS_LOW.selectFrom(r4, r5);
        FloatVector t5 = PAIRS_HIGH.selectFrom(r4, r5);
        FloatVector t6 = PAIRS_LOW.selectFrom(r6, r7);
        FloatVector t7 = PAIRS_HIGH.selectFrom(r6, r7);
        // u0 = rows 0-3 of columns 0 and 1; u1 columns 2, 3; u2 columns 4, 5; u3 columns 6, 7.
        FloatVector u0 = QUADS_LOW.selectFrom(t0, t2);
        FloatVector u1 = QUADS_HIGH.selectFrom(t0, t2);
        FloatVector u2 = QUADS_LOW.selectFrom(t1, t3);
        FloatVector u3 = QUADS_HIGH.selectFrom(t1, t3);
        FloatVector u4 = QUADS_LOW.selectFrom(t4, t6);
        FloatVector u5 = QUADS_HIGH.selectFrom(t4, t6);
        FloatVector u6 = QUADS_LOW.selectFrom(t5, t7);
        FloatVector u7 = QUADS_HIGH.selectFrom(t5, t7);
        HALVES_LOW.selectFrom(u0, u4).intoArray(dst, to);
        HALVES_HIGH.selectFrom(u0, u4).intoArray(dst, to + ld);
        HALVES_LOW.selectFrom(u1, u5).intoArray(dst, to + 2 * ld);
        HALVES_HIGH.selectFrom(u1, u5).intoArray(dst, to + 3 * ld);
        HALVES_LOW.selectFrom(u2, u6).intoArray(dst, to + 4 * ld);
        HALVES_HIGH.selectFrom(u2, u6).intoArray(dst, to + 5 * ld);
        HALVES_LOW.selectFrom(u3, u7).intoArray(dst, to + 6 * ld);
        HALVES_HIGH.selectFrom(u3, u7).intoArray(dst, to + 7 * ld);
    }
}
