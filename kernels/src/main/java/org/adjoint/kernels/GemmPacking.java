package org.adjoint.kernels;

import java.util.Arrays;

/**
 * Packing for {@link PackedGemm}: a block of op(A) into the tile's MR-tall slivers and a run of
 * op(B)'s slivers into its NR-wide ones, each zero-padded to whole slivers, in the layouts the
 * {@link MicroKernel}'s tiles read. Values are only moved, so packing never changes a result.
 */
final class GemmPacking {

    /**
     * Slivers of B packed together, a row of all of them at a time: B is read a few cache lines
     * per row instead of one, so a row-major B with a long stride (a page per row at 1024
     * columns) is not fetched one line per page. Packing B one sliver at a time took a tenth of
     * the MLP step under AVX2.
     */
    static final int SLIVERS_PER_PACK = 4;

    /**
     * Steps of k a packed transposed A takes across all its full slivers before the next
     * steps ({@link #packA}): each step is a run of MR values of one storage row, so a sliver
     * at a time read one cache line per step from rows far apart, which the prefetchers do not
     * follow, while sixteen steps across the slivers read sixteen rows front to back and write
     * 16·MR values into each sliver (at most 32 KiB in all for MC = 504 and MR = 12). On the Intel
     * Xeon of 2026-12-05 (AVX-512, 48 KiB L1d, 2 MiB L2; two threads, A, B and C cycling
     * through 24 sets so that each product starts cold, as in a training step; one run of ten
     * alternating windows each): 1.32× at {@code tn:512x768x128} and 1.23× at
     * {@code tn:512x768x512} against a sliver at a time; 8 steps gave 1.20× and 1.06×, 4 steps
     * 1.15× and 1.14×, 32 steps 1.31× and 1.21×.
     */
    static final int TRANSPOSED_PACK_STEPS = 16;

    /** Packs rows [ic, ic+mc) × columns [pc, pc+kc) of op(A) into MR-tall slivers, zero-padded. */
    static void packA(MicroKernel kernel, boolean transA, float[] a, int aOffset, int lda, int ic, int mc,
                       int pc, int kc, float[] pack) {
        int mr = kernel.rows();
        int whole = mc / mr * mr;
        if (transA) {
            // Full slivers, a few steps of k across all of them at a time (TRANSPOSED_PACK_STEPS).
            kernel.packColumns(a, aOffset + pc * lda + ic, lda, whole / mr, kc, TRANSPOSED_PACK_STEPS, pack, 0);
        }
        for (int ir = transA ? whole : 0; ir < mc; ir += mr) {
            int base = ir * kc;
            int rows = Math.min(mr, mc - ir);
            if (!transA && rows == mr) {
                kernel.packRows(a, aOffset + (ic + ir) * lda + pc, lda, kc, pack, base);
            } else if (!transA) {
                for (int r = 0; r < rows; r++) {
                    int src = aOffset + (ic + ir + r) * lda + pc;
                    for (int p = 0; p < kc; p++) {
                        pack[base + p * mr + r] = a[src + p];
                    }
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(a, aOffset + (pc + p) * lda + ic + ir, pack, base + p * mr, rows);
                }
            }
            for (int r = rows; r < mr; r++) {
                for (int p = 0; p < kc; p++) {
                    pack[base + p * mr + r] = 0f;
                }
            }
        }
    }

    /**
     * Packs rows [pc, pc+kc) of op(B) into slivers [first, end) of the panel of columns
     * [jc, jc+nc): sliver s holds columns jc + s·NR onwards, NR wide, zero-padded, at
     * {@code base + s·NR·kc}.
     */
    static void packB(MicroKernel kernel, boolean transB, float[] b, int bOffset, int ldb, int pc, int kc,
                       int jc, int nc, int first, int end, float[] pack, int base) {
        int nr = kernel.columns();
        if (!transB) {
            for (int p = 0; p < kc; p++) {
                int row = bOffset + (pc + p) * ldb + jc;
                for (int s = first; s < end; s++) {
                    int cols = Math.min(nr, nc - s * nr);
                    int src = row + s * nr;
                    int dst = base + s * nr * kc + p * nr;
                    if (cols == nr) {
                        kernel.copyRow(b, src, pack, dst);
                    } else {
                        System.arraycopy(b, src, pack, dst, cols);
                        Arrays.fill(pack, dst + cols, dst + nr, 0f);
                    }
                }
            }
        } else {
            for (int s = first; s < end; s++) {
                int cols = Math.min(nr, nc - s * nr);
                kernel.packTransposed(b, bOffset + (jc + s * nr) * ldb + pc, ldb, cols, kc, pack, base + s * nr * kc);
            }
        }
    }
}
