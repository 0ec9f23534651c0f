package org.adjoint.backend;

/**
 * The fused tail of a linear layer, {@code activation(x·W + b)} after the GEMM, and the
 * activation's derivative, composed from the core's binary and unary functions. The
 * activations are {@link UnaryOp#RELU}, {@link UnaryOp#TANH} and {@link UnaryOp#SIGMOID}
 * (each has a derivative written in its output), or {@code null} for none.
 */
public interface LinearTailOps extends BackendCore {

    /**
     * {@code y[r, c] = activation(y[r, c] + bias[c])} in place on a {@code rows × cols} matrix.
     *
     * @param activation {@code RELU}, {@code TANH}, {@code SIGMOID}, or {@code null} for none
     * @param y          the matrix, updated in place
     * @param bias       {@code cols} values, or {@code null} for none
     * @param rows       row count
     * @param cols       column count
     */
    default void biasActivation(UnaryOp activation, Buffer y, Buffer bias, int rows, int cols) {
        LinearTail.check("biasActivation", activation);
        if ((long) rows * cols == 0) {
            return;
        }
        if (bias != null) {
            binary(BinaryOp.ADD, y, new int[] {cols, 1}, bias, new int[] {0, 1}, y, new int[] {rows, cols});
        }
        if (activation != null) {
            unary(activation, 0f, y, y);
        }
    }

    /**
     * A linear layer's product with its bias, {@code c = op(A)·op(B) + bias} with the bias
     * added to each of the {@code m} rows, for one {@code m × n} result from offset 0: the bits
     * of {@link #gemm} ({@code alpha} 1, {@code beta} 0) followed by
     * {@link #biasActivation} with no activation, which is the default. A backend whose
     * product can start from the bias rows without changing those bits (the CPU's, where k
     * is one block) saves the pass over the result.
     *
     * @param transA  whether A is stored transposed ({@code k × m})
     * @param transB  whether B is stored transposed ({@code n × k})
     * @param m       rows of the result
     * @param n       columns of the result
     * @param k       the shared dimension
     * @param a       A, packed from {@code aOffset}
     * @param aOffset where A starts
     * @param b       B, packed from {@code bOffset}
     * @param bOffset where B starts
     * @param bias    {@code n} values
     * @param c       the result, {@code m × n}
     */
    default void gemmBias(boolean transA, boolean transB, int m, int n, int k, Buffer a, long aOffset, Buffer b,
                          long bOffset, Buffer bias, Buffer c) {
        gemm(transA, transB, 1, m, n, k, 1f, a, aOffset, 0, b, bOffset, 0, 0f, c, 0, 0);
        biasActivation(null, c, bias, m, n);
    }

    /**
     * The activation's VJP in one pass: {@code out = cotangent · activation'}, with the
     * derivative taken from the activation's output {@code y}: 1 where {@code y > 0} for ReLU,
     * {@code 1 − y²} for tanh, {@code y (1 − y)} for the sigmoid, 1 for none.
     *
     * @param activation {@code RELU}, {@code TANH}, {@code SIGMOID}, or {@code null} for none
     * @param y          activation outputs
     * @param cotangent  their cotangent
     * @param out        result of the same size
     */
    default void activationGrad(UnaryOp activation, Buffer y, Buffer cotangent, Buffer out) {
        LinearTail.check("activationGrad", activation);
        int n = Scratch.count("activationGrad", out);
        if (n == 0) {
            return;
        }
        int[] shape = {n};
        int[] contiguous = {1};
        int[] broadcast = {0};
        if (activation == null) {
            copyStrided(cotangent, contiguous, out, shape);
            return;
        }
        if (activation == UnaryOp.RELU) {
            unary(UnaryOp.STEP, 0f, y, out);
        } else {
            Buffer one = Scratch.scalar(this, 1f);
            try {
                if (activation == UnaryOp.TANH) {
                    binary(BinaryOp.MUL, y, contiguous, y, contiguous, out, shape);
                    binary(BinaryOp.SUB, one, broadcast, out, contiguous, out, shape);
                } else {
                    binary(BinaryOp.SUB, one, broadcast, y, contiguous, out, shape);
                    binary(BinaryOp.MUL, y, contiguous, out, contiguous, out, shape);
                }
            } finally {
                release(one);
            }
        }
        binary(BinaryOp.MUL, cotangent, contiguous, out, contiguous, out, shape);
    }
}
