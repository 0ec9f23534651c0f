package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The row-major to column-major mapping, checked by running the cuBLAS call it produces
 * through a column-major reference SGEMM (BLAS semantics) and comparing with the row-major
 * definition of {@link org.adjoint.backend.Backend#gemm}.
 */
class ColumnMajorGemmTest {

    private static final int[][] SIZES = {{1, 1, 1}, {3, 5, 4}, {1, 7, 2}, {6, 1, 3}, {5, 3, 1}, {7, 11, 13}, {2, 2, 9}};

    @Test
    void allFourTransposeCasesMatchTheRowMajorDefinition() {
        Random random = new Random(7);
        for (boolean transA : new boolean[] {false, true}) {
            for (boolean transB : new boolean[] {false, true}) {
                for (int[] size : SIZES) {
                    check(random, transA, transB, 1, size[0], size[1], size[2], false, false);
                }
            }
        }
    }

    @Test
    void stridedBatchesIncludingSharedMatrices() {
        Random random = new Random(11);
        for (boolean transA : new boolean[] {false, true}) {
            for (boolean transB : new boolean[] {false, true}) {
                check(random, transA, transB, 3, 4, 5, 6, false, false);
                check(random, transA, transB, 4, 3, 2, 5, true, false);
                check(random, transA, transB, 2, 5, 3, 4, false, true);
            }
        }
    }

    @Test
    void theArgumentsForEachCase() {
        // C (2×3) = A (2×4) · B (4×3): cuBLAS computes Cᵀ (3×2) = Bᵀ·Aᵀ with B first.
        assertEquals(new ColumnMajorGemm(false, false, 3, 2, 4, 3, 12, 4, 8, 3, 6, 1),
                ColumnMajorGemm.forRowMajor(false, false, 1, 2, 3, 4, 8, 12, 6));
        assertEquals(new ColumnMajorGemm(false, true, 3, 2, 4, 3, 0, 2, 8, 3, 6, 5),
                ColumnMajorGemm.forRowMajor(true, false, 5, 2, 3, 4, 8, 0, 6));
        assertEquals(new ColumnMajorGemm(true, false, 3, 2, 4, 4, 12, 4, 0, 3, 6, 2),
                ColumnMajorGemm.forRowMajor(false, true, 2, 2, 3, 4, 0, 12, 6));
        ColumnMajorGemm both = ColumnMajorGemm.forRowMajor(true, true, 1, 2, 3, 4, 8, 12, 6);
        assertEquals(new ColumnMajorGemm(true, true, 3, 2, 4, 4, 12, 2, 8, 3, 6, 1), both);
        assertEquals(ColumnMajorGemm.OP_T, both.opA());
        assertEquals(ColumnMajorGemm.OP_T, both.opB());
        assertEquals(ColumnMajorGemm.OP_N, ColumnMajorGemm.forRowMajor(false, false, 1, 1, 1, 1, 1, 1, 1).opA());
    }

    @Test
    void emptyProductsAreRefused() {
        var error = assertThrows(IllegalArgumentException.class,
                () -> ColumnMajorGemm.forRowMajor(false, false, 1, 2, 3, 0, 0, 0, 6));
        assertEquals("cuda gemm: batch 1, m 2, n 3, k 0 must all be at least 1 for cuBLAS (empty products are handled before)",
                error.getMessage());
    }

    private static void check(Random random, boolean transA, boolean transB, int batch, int m, int n, int k,
                              boolean shareA, boolean shareB) {
        long aStride = shareA ? 0 : (long) m * k;
        long bStride = shareB ? 0 : (long) k * n;
        long cStride = (long) m * n;
        float[] a = random(random, (int) (shareA ? m * k : batch * aStride));
        float[] b = random(random, (int) (shareB ? k * n : batch * bStride));
        float[] c = random(random, batch * m * n);
        float alpha = 1.5f;
        float beta = 0.25f;

        float[] expected = c.clone();
        for (int p = 0; p < batch; p++) {
            rowMajorDefinition(transA, transB, m, n, k, alpha, a, (int) (p * aStride), b, (int) (p * bStride), beta,
                    expected, (int) (p * cStride));
        }

        ColumnMajorGemm call = ColumnMajorGemm.forRowMajor(transA, transB, batch, m, n, k, aStride, bStride, cStride);
        float[] actual = c.clone();
        for (int p = 0; p < call.batchCount(); p++) {
            // cuBLAS's A is the engine's B, cuBLAS's B the engine's A.
            columnMajorSgemm(call.transa(), call.transb(), call.m(), call.n(), call.k(), alpha,
                    b, (int) (p * call.strideA()), call.lda(), a, (int) (p * call.strideB()), call.ldb(), beta,
                    actual, (int) (p * call.strideC()), call.ldc());
        }
        String label = "transA=" + transA + " transB=" + transB + " batch=" + batch + " m=" + m + " n=" + n + " k=" + k
                + " shareA=" + shareA + " shareB=" + shareB;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5f * (1 + Math.abs(expected[i])), label + " element " + i);
        }
    }

    /** Backend.gemm's definition: op(A) is m×k stored m×k or (transA) k×m, op(B) k×n stored k×n or n×k; all row-major. */
    private static void rowMajorDefinition(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                           float[] a, int aOffset, float[] b, int bOffset, float beta,
                                           float[] c, int cOffset) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0;
                for (int l = 0; l < k; l++) {
                    float opA = transA ? a[aOffset + l * m + i] : a[aOffset + i * k + l];
                    float opB = transB ? b[bOffset + j * k + l] : b[bOffset + l * n + j];
                    sum += opA * opB;
                }
                c[cOffset + i * n + j] = alpha * sum + beta * c[cOffset + i * n + j];
            }
        }
    }

    /** Reference BLAS sgemm, column-major: C = alpha·op(A)·op(B) + beta·C, op(A) m×k, op(B) k×n. */
    private static void columnMajorSgemm(boolean transa, boolean transb, int m, int n, int k, float alpha,
                                         float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float beta,
                                         float[] c, int cOffset, int ldc) {
        assertTrue(lda >= Math.max(1, transa ? k : m), "lda " + lda);
        assertTrue(ldb >= Math.max(1, transb ? n : k), "ldb " + ldb);
        assertTrue(ldc >= Math.max(1, m), "ldc " + ldc);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                float sum = 0;
                for (int l = 0; l < k; l++) {
                    float opA = transa ? a[aOffset + l + i * lda] : a[aOffset + i + l * lda];
                    float opB = transb ? b[bOffset + j + l * ldb] : b[bOffset + l + j * ldb];
                    sum += opA * opB;
                }
                c[cOffset + i + j * ldc] = alpha * sum + beta * c[cOffset + i + j * ldc];
            }
        }
    }

    private static void assertTrue(boolean condition, String message) {
        org.junit.jupiter.api.Assertions.assertTrue(condition, "cuBLAS would reject the call: " + message);
    }

    private static float[] random(Random random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }
}
