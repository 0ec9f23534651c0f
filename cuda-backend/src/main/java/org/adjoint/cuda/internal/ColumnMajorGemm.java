package org.adjoint.cuda.internal;

/**
 * The arguments of one cuBLAS {@code sgemm} (or {@code sgemmStridedBatched}) call that computes
 * a row-major product. cuBLAS is column-major, and a row-major {@code r × c} matrix is, read
 * column-major, its {@code c × r} transpose; so row-major {@code C = op(A)·op(B)} is
 * column-major {@code Cᵀ = op(B)ᵀ·op(A)ᵀ}: cuBLAS's first operand is the engine's B, its second
 * the engine's A, and the result needs no transpose at all.
 *
 * <p>Field names are cuBLAS's: {@code transa}, {@code lda} and {@code strideA} describe
 * cuBLAS's {@code A}, which is the engine's <em>B</em>.
 *
 * @param transa     whether cuBLAS transposes its first operand (the engine's B)
 * @param transb     whether cuBLAS transposes its second operand (the engine's A)
 * @param m          rows of cuBLAS's result: the engine's {@code n}
 * @param n          columns of cuBLAS's result: the engine's {@code m}
 * @param k          inner dimension
 * @param lda        leading dimension of the engine's B as cuBLAS reads it
 * @param strideA    elements between consecutive B of the batch (0 shares one)
 * @param ldb        leading dimension of the engine's A as cuBLAS reads it
 * @param strideB    elements between consecutive A of the batch (0 shares one)
 * @param ldc        leading dimension of C: the engine's {@code n}
 * @param strideC    elements between consecutive C of the batch
 * @param batchCount number of products
 */
public record ColumnMajorGemm(boolean transa, boolean transb, int m, int n, int k,
                              int lda, long strideA, int ldb, long strideB, int ldc, long strideC, int batchCount) {

    /** {@code CUBLAS_OP_N}. */
    public static final int OP_N = 0;
    /** {@code CUBLAS_OP_T}. */
    public static final int OP_T = 1;

    /**
     * The cuBLAS call for {@link org.adjoint.backend.Backend#gemm}'s row-major product.
     * {@code op(A)} is {@code m × k}, stored {@code m × k} (row length {@code k}) or, when
     * {@code transA}, {@code k × m} (row length {@code m}); {@code op(B)} is {@code k × n},
     * stored {@code k × n} (row length {@code n}) or {@code n × k} (row length {@code k}).
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param batch   number of products, at least 1
     * @param m       rows of C, at least 1
     * @param n       columns of C, at least 1
     * @param k       inner dimension, at least 1
     * @param aStride elements between consecutive A
     * @param bStride elements between consecutive B
     * @param cStride elements between consecutive C
     * @return the call, with the engine's B as cuBLAS's A
     */
    public static ColumnMajorGemm forRowMajor(boolean transA, boolean transB, int batch, int m, int n, int k,
                                              long aStride, long bStride, long cStride) {
        if (batch < 1 || m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException("cuda gemm: batch " + batch + ", m " + m + ", n " + n + ", k " + k
                    + " must all be at least 1 for cuBLAS (empty products are handled before)");
        }
        // The row length of a row-major matrix is the leading dimension of its column-major transpose.
        int bRowLength = transB ? k : n;
        int aRowLength = transA ? m : k;
        return new ColumnMajorGemm(transB, transA, n, m, k, bRowLength, bStride, aRowLength, aStride, n, cStride, batch);
    }

    /**
     * cuBLAS's {@code transa} argument.
     *
     * @return {@link #OP_T} or {@link #OP_N}
     */
    public int opA() {
        return transa ? OP_T : OP_N;
    }

    /**
     * cuBLAS's {@code transb} argument.
     *
     * @return {@link #OP_T} or {@link #OP_N}
     */
    public int opB() {
        return transb ? OP_T : OP_N;
    }
}
