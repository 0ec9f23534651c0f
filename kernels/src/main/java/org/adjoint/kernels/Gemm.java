package org.adjoint.kernels;

/**
 * Single-precision general matrix multiply on row-major data:
 * {@code C = alpha * op(A) * op(B) + beta * C}, where {@code op(X)} is {@code X} or its
 * transpose.
 *
 * <p>Shapes: {@code op(A)} is {@code m × k}, {@code op(B)} is {@code k × n}, {@code C} is
 * {@code m × n}. A stored untransposed is {@code m × k} with leading dimension {@code k};
 * stored transposed it is {@code k × m} with leading dimension {@code m}; likewise for B.
 * The batched form repeats the product with the given element strides between batch
 * entries (a stride of 0 reuses one matrix for every entry).
 */
public final class Gemm {

    private Gemm() {
    }

    /**
     * Batched multiply of contiguous row-major matrices.
     *
     * @param transA  whether A is stored as {@code k × m}
     * @param transB  whether B is stored as {@code n × k}
     * @param batch   number of products
     * @param m       rows of {@code op(A)} and {@code C}
     * @param n       columns of {@code op(B)} and {@code C}
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       storage of A
     * @param aOffset first element of the first A
     * @param aStride elements between consecutive A matrices
     * @param b       storage of B
     * @param bOffset first element of the first B
     * @param bStride elements between consecutive B matrices
     * @param beta    scale of the previous contents of C; when 0, C is overwritten (NaNs in it do not leak)
     * @param c       storage of C
     * @param cOffset first element of the first C
     * @param cStride elements between consecutive C matrices
     */
    public static void sgemmBatched(boolean transA, boolean transB, int batch, int m, int n, int k,
                                    float alpha, float[] a, int aOffset, int aStride,
                                    float[] b, int bOffset, int bStride,
                                    float beta, float[] c, int cOffset, int cStride) {
        for (int p = 0; p < batch; p++) {
            sgemm(transA, transB, m, n, k, alpha,
                    a, aOffset + p * aStride, transA ? m : k,
                    b, bOffset + p * bStride, transB ? k : n,
                    beta, c, cOffset + p * cStride, n);
        }
    }

    /**
     * One multiply with explicit leading dimensions.
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param m       rows of {@code op(A)} and {@code C}
     * @param n       columns of {@code op(B)} and {@code C}
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       storage of A
     * @param aOffset first element of A
     * @param lda     elements between rows of A as stored
     * @param b       storage of B
     * @param bOffset first element of B
     * @param ldb     elements between rows of B as stored
     * @param beta    scale of the previous contents of C (0 overwrites)
     * @param c       storage of C
     * @param cOffset first element of C
     * @param ldc     elements between rows of C
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                             float beta, float[] c, int cOffset, int ldc) {
        for (int i = 0; i < m; i++) {
            int cRow = cOffset + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, cRow, cRow + n, 0f);
            } else if (beta != 1f) {
                for (int j = 0; j < n; j++) {
                    c[cRow + j] *= beta;
                }
            }
        }
        if (m == 0 || n == 0 || k == 0 || alpha == 0f) {
            return;
        }
        if (!transB) {
            // i-p-j order: the innermost loop streams a row of B into a row of C, which
            // C2 vectorises; op(A) is read one scalar at a time whichever way it is stored.
            for (int i = 0; i < m; i++) {
                int cRow = cOffset + i * ldc;
                for (int p = 0; p < k; p++) {
                    float aip = alpha * (transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p]);
                    int bRow = bOffset + p * ldb;
                    for (int j = 0; j < n; j++) {
                        c[cRow + j] += aip * b[bRow + j];
                    }
                }
            }
        } else if (!transA) {
            // A·Bᵀ: rows of A and rows of B are both contiguous, so each C entry is a dot product.
            for (int i = 0; i < m; i++) {
                int aRow = aOffset + i * lda;
                int cRow = cOffset + i * ldc;
                for (int j = 0; j < n; j++) {
                    int bRow = bOffset + j * ldb;
                    float sum = 0f;
                    for (int p = 0; p < k; p++) {
                        sum += a[aRow + p] * b[bRow + p];
                    }
                    c[cRow + j] += alpha * sum;
                }
            }
        } else {
            for (int i = 0; i < m; i++) {
                int cRow = cOffset + i * ldc;
                for (int j = 0; j < n; j++) {
                    int bRow = bOffset + j * ldb;
                    float sum = 0f;
                    for (int p = 0; p < k; p++) {
                        sum += a[aOffset + p * lda + i] * b[bRow + p];
                    }
                    c[cRow + j] += alpha * sum;
                }
            }
        }
    }
}
