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
