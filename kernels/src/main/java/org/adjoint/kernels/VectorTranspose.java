package org.adjoint.kernels;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Transposes of row-major blocks in 8 × 8 tiles held in registers: eight rows loaded as
 * vectors, three rounds of block swaps (rotations and blends), eight columns stored as
 * vectors; instead of 64 scalar loads and stores with a strided store each. Values are only
 * moved, so the result is the same as a scalar copy's. Rows and columns beyond whole tiles
 * are copied one value at a time.
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

    /*
     * Rotations: ROTATE_UP_b moves lane j to lane j + b (mod 8), ROTATE_DOWN_b to j − b; and
     * the lanes whose index has bit b set.
     */
    private static final VectorShuffle<Float> ROTATE_4 = VectorShuffle.fromValues(S, 4, 5, 6, 7, 0, 1, 2, 3);
    private static final VectorShuffle<Float> ROTATE_UP_2 = VectorShuffle.fromValues(S, 6, 7, 0, 1, 2, 3, 4, 5);
    private static final VectorShuffle<Float> ROTATE_DOWN_2 = VectorShuffle.fromValues(S, 2, 3, 4, 5, 6, 7, 0, 1);
    private static final VectorShuffle<Float> ROTATE_UP_1 = VectorShuffle.fromValues(S, 7, 0, 1, 2, 3, 4, 5, 6);
    private static final VectorShuffle<Float> ROTATE_DOWN_1 = VectorShuffle.fromValues(S, 1, 2, 3, 4, 5, 6, 7, 0);
    private static final VectorMask<Float> BIT_4 = VectorMask.fromValues(S, false, false, false, false, true, true, true,
            true);
    private static final VectorMask<Float> BIT_2 = VectorMask.fromValues(S, false, false, true, true, false, false, true,
            true);
    private static final VectorMask<Float> BIT_1 = VectorMask.fromValues(S, false, true, false, true, false, true, false,
            true);

    private VectorTranspose() {
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

    /**
     * One 8 × 8 tile: {@code dst[to + c·ld + r] = src[at + r·stride + c]}. Each round swaps,
     * for one bit b of the index (4, then 2, then 1), the b × b blocks at (row bit set, column
     * bit clear) with those at (row bit clear, column bit set): rows {@code i} and {@code i + b}
     * (bit b of {@code i} clear) become {@code i}'s own lanes where bit b of the lane is clear and
     * {@code i + b}'s lanes rotated up by b where it is set, and {@code i}'s rotated down by b
     * where it is clear and {@code i + b}'s own where it is set. After the three rounds every
     * value has crossed its diagonal. One rotation and one blend per row and round: on a Zen 4
     * this took the 64 × 32 transpose of the attention's keys from 742 to 363 ns under
     * {@code -XX:UseAVX=2} and from 422 to 320 ns with AVX-512, against two-vector
     * {@code selectFrom} (three rounds of lane selections across pairs of rows), which AVX2 has
     * no single instruction for.
     */
    static void tile(float[] src, int at, int stride, float[] dst, int to, int ld) {
        FloatVector r0 = FloatVector.fromArray(S, src, at);
        FloatVector r1 = FloatVector.fromArray(S, src, at + stride);
        FloatVector r2 = FloatVector.fromArray(S, src, at + 2 * stride);
        FloatVector r3 = FloatVector.fromArray(S, src, at + 3 * stride);
        FloatVector r4 = FloatVector.fromArray(S, src, at + 4 * stride);
        FloatVector r5 = FloatVector.fromArray(S, src, at + 5 * stride);
        FloatVector r6 = FloatVector.fromArray(S, src, at + 6 * stride);
        FloatVector r7 = FloatVector.fromArray(S, src, at + 7 * stride);
        FloatVector a0 = r0.blend(r4.rearrange(ROTATE_4), BIT_4);
        FloatVector a4 = r0.rearrange(ROTATE_4).blend(r4, BIT_4);
        FloatVector a1 = r1.blend(r5.rearrange(ROTATE_4), BIT_4);
        FloatVector a5 = r1.rearrange(ROTATE_4).blend(r5, BIT_4);
        FloatVector a2 = r2.blend(r6.rearrange(ROTATE_4), BIT_4);
        FloatVector a6 = r2.rearrange(ROTATE_4).blend(r6, BIT_4);
        FloatVector a3 = r3.blend(r7.rearrange(ROTATE_4), BIT_4);
        FloatVector a7 = r3.rearrange(ROTATE_4).blend(r7, BIT_4);
        FloatVector b0 = a0.blend(a2.rearrange(ROTATE_UP_2), BIT_2);
        FloatVector b2 = a0.rearrange(ROTATE_DOWN_2).blend(a2, BIT_2);
        FloatVector b1 = a1.blend(a3.rearrange(ROTATE_UP_2), BIT_2);
        FloatVector b3 = a1.rearrange(ROTATE_DOWN_2).blend(a3, BIT_2);
        FloatVector b4 = a4.blend(a6.rearrange(ROTATE_UP_2), BIT_2);
        FloatVector b6 = a4.rearrange(ROTATE_DOWN_2).blend(a6, BIT_2);
        FloatVector b5 = a5.blend(a7.rearrange(ROTATE_UP_2), BIT_2);
        FloatVector b7 = a5.rearrange(ROTATE_DOWN_2).blend(a7, BIT_2);
        b0.blend(b1.rearrange(ROTATE_UP_1), BIT_1).intoArray(dst, to);
        b0.rearrange(ROTATE_DOWN_1).blend(b1, BIT_1).intoArray(dst, to + ld);
        b2.blend(b3.rearrange(ROTATE_UP_1), BIT_1).intoArray(dst, to + 2 * ld);
        b2.rearrange(ROTATE_DOWN_1).blend(b3, BIT_1).intoArray(dst, to + 3 * ld);
        b4.blend(b5.rearrange(ROTATE_UP_1), BIT_1).intoArray(dst, to + 4 * ld);
        b4.rearrange(ROTATE_DOWN_1).blend(b5, BIT_1).intoArray(dst, to + 5 * ld);
        b6.blend(b7.rearrange(ROTATE_UP_1), BIT_1).intoArray(dst, to + 6 * ld);
        b6.rearrange(ROTATE_DOWN_1).blend(b7, BIT_1).intoArray(dst, to + 7 * ld);
    }
}
