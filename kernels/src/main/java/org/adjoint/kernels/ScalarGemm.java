package org.adjoint.kernels;

import java.util.Arrays;

/**
 * The scalar provider's SGEMM. It has the shape of {@link PackedGemm} (a packed panel of B
 * shared by the threads, which split the rows of C) but not its 4 × 16 register tile, which
 * C2 cannot auto-vectorise profitably (a 16-long inner loop measured about 4 GFLOP/s).
 * Instead each row of C is built as a sum of long row updates
 * {@code acc += A[i, p] · B[p, :]} over a {@code KC × NC} panel of B (128 × 256: 128 KiB,
 * well inside L2, since these loops stream the panel once per row of C).
 *
 * <p>Why the panel is an array of rows and the accumulator a separate array, both indexed
 * from 0: C2 vectorises {@code y[j] += a * x[j]} only when it can rule out a dependence
 * between iterations. With equal indices that holds even if {@code x} and {@code y} were
 * the same array; with different offsets into arrays that might alias, C2 gives up and
 * runs the loop scalar (measured: 3.6 against about 20 GFLOP/s per core).
 */
final class ScalarGemm {

    private static final int KC = 128;
    private static final int NC = 256;
    private static final long SERIAL_BELOW = 1L << 22;
    private static final ThreadLocal<float[][]> B_PANEL = ThreadLocal.withInitial(() -> new float[KC][NC]);
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[NC]);

    private ScalarGemm() {
    }

    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                      float beta, float[] c, int cOffset, int ldc) {
        PackedGemm.scale(beta, c, cOffset, ldc, m, n);
        if (m == 0 || n == 0 || k == 0 || alpha == 0f) {
            return;
        }
        int threads = (long) m * n * k < SERIAL_BELOW ? 1 : Math.min(Parallel.THREADS, m);
        float[][] panel = B_PANEL.get();
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                for (int p = 0; p < kc; p++) {
                    float[] row = panel[p];
                    if (!transB) {
                        System.arraycopy(b, bOffset + (pc + p) * ldb + jc, row, 0, nc);
                    } else {
                        for (int j = 0; j < nc; j++) {
                            row[j] = b[bOffset + (jc + j) * ldb + pc + p];
                        }
                    }
                }
                int jcStart = jc;
                int pcStart = pc;
                Parallel.run(threads, part -> {
                    float[] acc = ROW.get();
                    int first = (int) ((long) m * part / threads);
                    int end = (int) ((long) m * (part + 1) / threads);
                    for (int i = first; i < end; i++) {
                        Arrays.fill(acc, 0, nc, 0f);
                        for (int p = 0; p < kc; p++) {
                            float aip = transA ? a[aOffset + (pcStart + p) * lda + i] : a[aOffset + i * lda + pcStart + p];
                            axpy(aip, panel[p], acc, nc);
                        }
                        int cRow = cOffset + i * ldc + jcStart;
                        for (int j = 0; j < nc; j++) {
                            c[cRow + j] = Math.fma(alpha, acc[j], c[cRow + j]);
                        }
                    }
                });
            }
        }
    }

    /** {@code y += a·x} over the first {@code n} elements (see the class note on indices). */
    private static void axpy(float a, float[] x, float[] y, int n) {
        for (int j = 0; j < n; j++) {
            y[j] += a * x[j];
        }
    }
}
