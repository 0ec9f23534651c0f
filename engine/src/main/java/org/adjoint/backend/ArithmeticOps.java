package org.adjoint.backend;

/**
 * The arithmetic part of the required core: GEMM and element-wise functions of one and of
 * two operands.
 */
public interface ArithmeticOps {

    /**
     * Batched general matrix multiply {@code C = alpha·op(A)·op(B) + beta·C} on contiguous
     * row-major matrices. {@code op(A)} is {@code m × k} (stored {@code k × m} when
     * {@code transA}); {@code op(B)} is {@code k × n} (stored {@code n × k} when
     * {@code transB}). Entry {@code p} of the batch starts at {@code offset + p * stride} in
     * each buffer; a stride of 0 reuses one matrix for the whole batch.
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param batch   number of products
     * @param m       rows of the result
     * @param n       columns of the result
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       left matrices
     * @param aOffset where the first A starts
     * @param aStride elements between consecutive A
     * @param b       right matrices
     * @param bOffset where the first B starts
     * @param bStride elements between consecutive B
     * @param beta    scale of C's previous contents (0 overwrites)
     * @param c       result matrices
     * @param cOffset where the first C starts
     * @param cStride elements between consecutive C
     */
    void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
              Buffer a, long aOffset, long aStride, Buffer b, long bOffset, long bStride,
              float beta, Buffer c, long cOffset, long cStride);

    /**
     * {@link #gemm(boolean, boolean, int, int, int, int, float, Buffer, long, long, Buffer, long, long,
     * float, Buffer, long, long) gemm} with every matrix starting at offset 0.
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param batch   number of products
     * @param m       rows of the result
     * @param n       columns of the result
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       left matrices
     * @param aStride elements between consecutive A
     * @param b       right matrices
     * @param bStride elements between consecutive B
     * @param beta    scale of C's previous contents (0 overwrites)
     * @param c       result matrices
     * @param cStride elements between consecutive C
     */
    default void gemm(boolean transA, boolean transB, int batch, int m, int n, int k,
                      float alpha, Buffer a, long aStride, Buffer b, long bStride,
                      float beta, Buffer c, long cStride) {
        gemm(transA, transB, batch, m, n, k, alpha, a, 0, aStride, b, 0, bStride, beta, c, 0, cStride);
    }

    /**
     * The arguments of one {@link #gemm(boolean, boolean, int, int, int, int, float, Buffer, long, long, Buffer,
     * long, long, float, Buffer, long, long) gemm} call, for {@link #gemmPair}.
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param batch   number of products
     * @param m       rows of the result
     * @param n       columns of the result
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       left matrices
     * @param aOffset where the first A starts
     * @param aStride elements between consecutive A
     * @param b       right matrices
     * @param bOffset where the first B starts
     * @param bStride elements between consecutive B
     * @param beta    scale of C's previous contents (0 overwrites)
     * @param c       result matrices
     * @param cOffset where the first C starts
     * @param cStride elements between consecutive C
     */
    record Product(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                   Buffer a, long aOffset, long aStride, Buffer b, long bOffset, long bStride,
                   float beta, Buffer c, long cOffset, long cStride) {

        /**
         * Runs this product on {@code ops}.
         *
         * @param ops the backend
         */
        public void on(ArithmeticOps ops) {
            ops.gemm(transA, transB, batch, m, n, k, alpha, a, aOffset, aStride, b, bOffset, bStride, beta, c,
                    cOffset, cStride);
        }
    }

    /**
     * Two independent products, each with the bits that {@code gemm} gives it alone; neither
     * result may overlap an operand or the result of the other. A backend may run them side by
     * side: a product's VJPs for both operands (the weight and input gradients of a layer) are
     * two such products. The default runs the first, then the second.
     *
     * @param first  one product
     * @param second the other
     */
    default void gemmPair(Product first, Product second) {
        first.on(this);
        second.on(this);
    }

    /**
     * {@code out[i] = op(x[i])} for every element.
     *
     * @param op        the function
     * @param parameter its parameter (the exponent of {@link UnaryOp#POW}; ignored otherwise)
     * @param x         input
     * @param out       output of the same size (may be {@code x})
     */
    void unary(UnaryOp op, float parameter, Buffer x, Buffer out);

    /**
     * {@code out[i] = grad[i] · op(x[i])} for every element: a pointwise VJP (the cotangent
     * times the derivative) without a temporary for {@code op(x)}. The default is that
     * composition, {@link #unary} into {@code out} and then a {@link BinaryOp#MUL}; a backend
     * that overrides it for some functions gives the same bits (the same two roundings per
     * element) and defers to the default for the rest.
     *
     * @param op        the function ({@link UnaryOp#STEP} and {@link UnaryOp#GELU_GRAD} are the ones VJPs use)
     * @param parameter its parameter (the exponent of {@link UnaryOp#POW}; ignored otherwise)
     * @param x         the function's argument
     * @param grad      the factor, of the same size
     * @param out       output of the same size, distinct from {@code grad} (may be {@code x})
     */
    default void unaryTimes(UnaryOp op, float parameter, Buffer x, Buffer grad, Buffer out) {
        int n = Scratch.count("unaryTimes", out);
        if (n == 0) {
            return;
        }
        unary(op, parameter, x, out);
        int[] shape = {n};
        int[] contiguous = {1};
        binary(BinaryOp.MUL, grad, contiguous, out, contiguous, out, shape);
    }

    /**
     * Element-wise {@code out = op(lhs, rhs)} over {@code shape}, each operand addressed by
     * its strides (0 on broadcast axes); {@code out} is contiguous. An operand that is itself
     * contiguous over {@code shape} may be {@code out} (each element is read before it is
     * written).
     *
     * @param op         the function
     * @param lhs        left operand
     * @param lhsStrides its stride per axis of {@code shape}
     * @param rhs        right operand
     * @param rhsStrides its stride per axis of {@code shape}
     * @param out        output, contiguous over {@code shape}
     * @param shape      iteration shape
     */
    void binary(BinaryOp op, Buffer lhs, int[] lhsStrides, Buffer rhs, int[] rhsStrides, Buffer out, int[] shape);
}
