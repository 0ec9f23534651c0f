package org.adjoint.kernels;

/**
 * The element-wise passes of a {@link KernelProvider}: fused bias and activation, the
 * optimiser's update, unary and broadcasting binary functions, and the sums that undo a
 * broadcast. Each is one pass over its operands.
 */
public interface ElementWiseKernels {

    /**
     * Bias and activation in place on a GEMM result, as {@link Fused#biasActivation}.
     *
     * @param activation the function
     * @param y          {@code rows × cols}, updated in place
     * @param bias       {@code cols} values or {@code null}
     * @param rows       row count
     * @param cols       column count
     */
    void biasActivation(Fused.Activation activation, float[] y, float[] bias, int rows, int cols);

    /**
     * The activation's VJP in one pass, as {@link Fused#activationGrad}.
     *
     * @param activation the function
     * @param y          activation outputs
     * @param cotangent  their cotangent
     * @param out        result
     * @param n          element count
     */
    void activationGrad(Fused.Activation activation, float[] y, float[] cotangent, float[] out, int n);

    /**
     * {@code y[i] += alpha · x[i]} for {@code i < n}.
     *
     * @param alpha scale of {@code x}
     * @param x     addend
     * @param y     updated in place
     * @param n     element count
     */
    void axpy(float alpha, float[] x, float[] y, int n);

    /**
     * One Adam update in one pass, as {@link ElementWise#adam}, with this provider's roundings:
     * the same bits as the update composed from its {@link #axpy} and element-wise operations.
     *
     * @param p               parameters, updated
     * @param g               gradient
     * @param m               first moments, updated
     * @param v               second moments, updated
     * @param n               element count
     * @param beta1           β1
     * @param beta2           β2
     * @param sqrtCorrection2 √(1 − β2^t)
     * @param epsilon         ε
     * @param step            −lr / (1 − β1^t)
     * @param decay           coupled weight decay, 0 for none
     * @param shrink          decoupled factor 1 − lr·λ, 1 for none
     */
    void adam(float[] p, float[] g, float[] m, float[] v, int n, float beta1, float beta2,
              float sqrtCorrection2, float epsilon, float step, float decay, float shrink);

    /**
     * {@code out[k] = Σ xs[k][i]²} for the first {@code count} arrays, each with the bits of
     * this provider's product of the array by itself followed by its {@link #sumTo} over every
     * element (one row, in its order), without the squares' array; the arrays are taken by the
     * kernel threads in turn, each summed whole by one of them.
     *
     * @param xs    the arrays
     * @param count how many leading arrays
     * @param out   at least {@code count} elements, overwritten
     */
    void sumsOfSquares(float[][] xs, int count, float[] out);

    /**
     * {@link #adam} over {@code count} parameters at once: their elements taken end to end and
     * split across the kernel threads, so that small parameters (biases, norms) share the
     * threads too and one region serves them all. Each element gets the operations it gets in
     * {@link #adam}, so the same bits.
     *
     * @param p     each parameter, updated (its length is its element count)
     * @param g     each gradient
     * @param m     each first moment, updated
     * @param v     each second moment, updated
     * @param count how many parameters (the first {@code count} of each array)
     * @param beta1 and the rest as in {@link #adam}
     */
    void adam(float[][] p, float[][] g, float[][] m, float[][] v, int count, float beta1, float beta2,
              float sqrtCorrection2, float epsilon, float step, float decay, float shrink);

    /**
     * Element-wise function of a contiguous range, as {@link ElementWise#apply}.
     *
     * @param function  which function
     * @param parameter its parameter
     * @param x         input
     * @param xOffset   first input element
     * @param out       output (may be {@code x})
     * @param outOffset first output element
     * @param n         element count
     */
    void unary(ElementWise.Unary function, float parameter, float[] x, int xOffset, float[] out, int outOffset, int n);

    /**
     * {@code out[i] = grad[i] · f(x[i])} for {@code i < n} in one pass, as
     * {@link ElementWise#applyTimes}: a pointwise VJP without the temporary {@code f(x)}, the
     * same bits as {@link #unary} followed by a product on this provider.
     *
     * @param function {@link ElementWise.Unary#STEP} or {@link ElementWise.Unary#GELU_GRAD}
     * @param x        the function's argument
     * @param grad     the factor
     * @param out      output (may be {@code x} or {@code grad})
     * @param n        element count
     * @throws IllegalArgumentException for another function
     */
    void unaryTimes(ElementWise.Unary function, float[] x, float[] grad, float[] out, int n);

    /**
     * Element-wise binary function over a strided index space, as {@link Strided#binary}.
     *
     * @param function   which function
     * @param lhs        left operand
     * @param lhsStrides its strides (0 broadcasts)
     * @param rhs        right operand
     * @param rhsStrides its strides (0 broadcasts)
     * @param out        contiguous output
     * @param shape      iteration shape
     */
    void binary(Strided.Binary function, float[] lhs, int[] lhsStrides, float[] rhs, int[] rhsStrides,
                float[] out, int[] shape);

    /**
     * {@link #binary(Strided.Binary, float[], int[], float[], int[], float[], int[])} with
     * operands that start at an offset (views of a larger storage); the default runs scalar
     * rows, providers override it with their own.
     *
     * @param function   which function
     * @param lhs        left operand
     * @param lhsOffset  its first element
     * @param lhsStrides its strides (0 broadcasts)
     * @param rhs        right operand
     * @param rhsOffset  its first element
     * @param rhsStrides its strides (0 broadcasts)
     * @param out        contiguous output
     * @param shape      iteration shape
     */
    default void binary(Strided.Binary function, float[] lhs, int lhsOffset, int[] lhsStrides, float[] rhs,
                        int rhsOffset, int[] rhsStrides, float[] out, int[] shape) {
        Strided.binary(function, lhs, lhsOffset, lhsStrides, rhs, rhsOffset, rhsStrides, out, 0, shape);
    }

    /**
     * Sum of a contiguous array into a smaller one, as {@link Strided#sumTo}.
     *
     * @param src        source, contiguous over {@code shape}
     * @param shape      its shape
     * @param out        output (overwritten)
     * @param outStrides output stride per source axis (0 where reduced)
     */
    void sumTo(float[] src, int[] shape, float[] out, int[] outStrides);
}
