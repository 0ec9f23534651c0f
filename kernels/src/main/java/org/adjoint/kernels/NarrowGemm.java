package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SGEMM for products of at most {@value #MAX_COLUMNS} columns: a classifier's last layer
 * ({@code X·W} with a few classes) and its weight gradient ({@code Xᵀ·dY}). There each
 * element of A takes part in at most 16 multiply-adds, so {@link PackedGemm}'s copy of A
 * into panels costs as much as the arithmetic, and its 32-column tile computes 32 columns for
 * 10. Here op(B) is packed once into a {@code k × 16} panel (zero-padded, a few KiB, shared
 * by the threads), A is read in place (copying a transposed A into a slab first measured
 * slower), and each step of the loop broadcasts one element of
 * four rows of op(A) against the panel's two 256-bit vectors: a 4 × 16 tile of eight
 * accumulators. Threads split the rows in chunks of 16; small products stay on the calling
 * thread.
 *
 * <p>Each element is accumulated over the whole of {@code k} in one register, in order of
 * {@code p}, then {@code C = alpha·acc + beta·C} ({@code beta = 0} overwrites C, so NaNs
 * already in C do not survive).
 */
final class NarrowGemm {

    /** The widest product this path takes. */
    static final int MAX_COLUMNS = 16;
    /**
     * The longest k this path takes: the panel holds all of k (16 floats per step, 4 MiB at
     * this length) and is kept for the next call; longer products go through the blocked path.
     */
    static final int MAX_DEPTH = 1 << 16;

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;
    private static final int LANES = SPECIES.length();
    private static final int ROWS = 4;
    /** Rows per unit of work between threads: 16 floats, one cache line of a transposed A. */
    private static final int CHUNK = 16;
    private static final ThreadLocal<float[]> PANEL = new ThreadLocal<>();
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[ROWS * MAX_COLUMNS]);

    private NarrowGemm() {
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} for {@code n ≤ MAX_COLUMNS}, row-major, with the
     * meaning of {@link KernelProvider#sgemm}.
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                      float beta, float[] c, int cOffset, int ldc) {
        float[] panel = panel(k);
        for (int p = 0; p < k; p++) {
            int row = p * MAX_COLUMNS;
            for (int j = 0; j < n; j++) {
                panel[row + j] = transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
            }
            for (int j = n; j < MAX_COLUMNS; j++) {
                panel[row + j] = 0f;
            }
        }
        int chunks = (m + CHUNK - 1) / CHUNK;
        int parts = (long) m * n * k < PackedGemm.SERIAL_BELOW ? 1 : Math.min(Parallel.THREADS, chunks);
        Parallel.run(parts, part -> {
            int first = (int) Math.min(m, (long) chunks * part / parts * CHUNK);
            int end = (int) Math.min(m, (long) chunks * (part + 1) / parts * CHUNK);
            float[] tile = TILE.get();
            for (int i = first; i < end; i += ROWS) {
                int rows = Math.min(ROWS, end - i);
                if (transA) {
                    // Row p of the stored A holds element p of every row of op(A).
                    multiply(a, aOffset + i, lda, 1, rows, k, panel, tile);
                } else {
                    multiply(a, aOffset + i * lda, 1, lda, rows, k, panel, tile);
                }
                store(tile, rows, n, alpha, beta, c, cOffset + i * ldc, ldc);
            }
        });
    }

    private static float[] panel(int k) {
        int needed = Math.multiplyExact(k, MAX_COLUMNS);
        float[] buffer = PANEL.get();
        if (buffer == null || buffer.length < needed) {
            buffer = new float[needed];
            PANEL.set(buffer);
        }
        return buffer;
    }

    /**
     * The products of {@code rows} rows of op(A) with the panel into {@code tile} (row-major,
     * 16 columns). Element {@code (r, p)} of those rows is {@code a[first + r·across + p·step]}.
     * Rows past {@code rows} repeat the last row, so that the loop has one shape; their
     * results are not stored.
     */
    private static void multiply(float[] a, int first, int step, int across, int rows, int k, float[] panel,
                                 float[] tile) {
        int base0 = first;
        int base1 = first + Math.min(1, rows - 1) * across;
        int base2 = first + Math.min(2, rows - 1) * across;
        int base3 = first + Math.min(3, rows - 1) * across;
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        for (int p = 0; p < k; p++) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, panel, p * MAX_COLUMNS);
            FloatVector b1 = FloatVector.fromArray(SPECIES, panel, p * MAX_COLUMNS + LANES);
            int offset = p * step;
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[base0 + offset]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[base1 + offset]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[base2 + offset]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[base3 + offset]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, LANES);
        c10.intoArray(tile, MAX_COLUMNS);
        c11.intoArray(tile, MAX_COLUMNS + LANES);
        c20.intoArray(tile, 2 * MAX_COLUMNS);
        c21.intoArray(tile, 2 * MAX_COLUMNS + LANES);
        c30.intoArray(tile, 3 * MAX_COLUMNS);
        c31.intoArray(tile, 3 * MAX_COLUMNS + LANES);
    }

    private static void store(float[] tile, int rows, int n, float alpha, float beta, float[] c, int cOffset, int ldc) {
        for (int r = 0; r < rows; r++) {
            int row = cOffset + r * ldc;
            for (int j = 0; j < n; j++) {
                float product = alpha * tile[r * MAX_COLUMNS + j];
                c[row + j] = beta == 0f ? product : product + beta * c[row + j];
            }
        }
    }
}
