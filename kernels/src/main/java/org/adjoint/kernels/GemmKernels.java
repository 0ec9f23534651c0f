package org.adjoint.kernels;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The single-precision matrix products of a {@link KernelProvider}: {@link #sgemm} is the one
 * method a provider must write, and the batched form is composed from it. The convolution and
 * attention families build on it, so their defaults run on any provider's GEMM.
 */
public interface GemmKernels {

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} on row-major matrices with explicit leading
     * dimensions. {@code op(A)} is {@code m × k}: stored {@code m × k} with row stride
     * {@code lda}, or {@code k × m} when {@code transA}; likewise {@code op(B)} is
     * {@code k × n}, stored {@code n × k} when {@code transB}. With {@code beta == 0}, C is
     * overwritten (NaNs in it do not survive). Large products use the shared thread pool.
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param m       rows of C
     * @param n       columns of C
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       storage of A
     * @param aOffset first element of A
     * @param lda     elements between rows of A as stored
     * @param b       storage of B
     * @param bOffset first element of B
     * @param ldb     elements between rows of B as stored
     * @param beta    scale of C's previous contents
     * @param c       storage of C
     * @param cOffset first element of C
     * @param ldc     elements between rows of C
     */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
               float beta, float[] c, int cOffset, int ldc);

    /**
     * The arguments of one {@link #sgemm} call, for {@link #sgemmPair}.
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param m       rows of C
     * @param n       columns of C
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       storage of A
     * @param aOffset first element of A
     * @param lda     elements between rows of A as stored
     * @param b       storage of B
     * @param bOffset first element of B
     * @param ldb     elements between rows of B as stored
     * @param beta    scale of C's previous contents
     * @param c       storage of C
     * @param cOffset first element of C
     * @param ldc     elements between rows of C
     */
    record Product(boolean transA, boolean transB, int m, int n, int k, float alpha,
                   float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                   float beta, float[] c, int cOffset, int ldc) {

        /** Whether the product adds nothing to C (an empty operand or {@code alpha == 0}): C is only scaled by beta. */
        boolean empty() {
            return m == 0 || n == 0 || k == 0 || alpha == 0f;
        }

        /**
         * Runs this product with {@code kernels}' {@link GemmKernels#sgemm}.
         *
         * @param kernels the provider
         */
        public void on(GemmKernels kernels) {
            kernels.sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        }
    }

    /**
     * Two independent products, with the bits that {@link #sgemm} gives each of them alone:
     * neither C may overlap an operand or the C of the other. A provider may run them side by
     * side (the weight and input gradients of one layer, say); the default runs the first,
     * then the second.
     *
     * @param first  one product
     * @param second the other
     */
    default void sgemmPair(Product first, Product second) {
        first.on(this);
        second.on(this);
    }

    /**
     * Batched {@link #sgemm} on contiguous matrices: entry {@code p} of each operand starts
     * {@code p * stride} elements after its offset (a stride of 0 shares one matrix).
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param batch   number of products
     * @param m       rows of C
     * @param n       columns of C
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       storage of A
     * @param aOffset first element of the first A
     * @param aStride elements between consecutive A
     * @param b       storage of B
     * @param bOffset first element of the first B
     * @param bStride elements between consecutive B
     * @param beta    scale of C's previous contents
     * @param c       storage of C
     * @param cOffset first element of the first C
     * @param cStride elements between consecutive C
     */
    default void sgemmBatched(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                              float[] a, int aOffset, int aStride, float[] b, int bOffset, int bStride,
                              float beta, float[] c, int cOffset, int cStride) {
        // Products too small to split (a convolution's per-image GEMMs) run side by side, whole
        // entries claimed one at a time by each thread, when their Cs do not overlap: each entry
        // is still one serial sgemm, so the bits do not depend on the thread count, and a thread
        // that starts late only takes fewer entries. Larger products split themselves.
        boolean sideBySide = batch > 1 && (long) m * n * k < PackedGemm.SERIAL_BELOW
                && Math.abs((long) cStride) >= (long) m * n;
        if (sideBySide) {
            AtomicInteger next = new AtomicInteger();
            Parallel.together(Math.min(batch, Parallel.THREADS), threads -> part -> {
                for (int p = next.getAndIncrement(); p < batch; p = next.getAndIncrement()) {
                    sgemm(transA, transB, m, n, k, alpha, a, aOffset + p * aStride, transA ? m : k,
                            b, bOffset + p * bStride, transB ? k : n, beta, c, cOffset + p * cStride, n);
                }
            });
            return;
        }
        for (int p = 0; p < batch; p++) {
            sgemm(transA, transB, m, n, k, alpha, a, aOffset + p * aStride, transA ? m : k,
                    b, bOffset + p * bStride, transB ? k : n, beta, c, cOffset + p * cStride, n);
        }
    }
}
