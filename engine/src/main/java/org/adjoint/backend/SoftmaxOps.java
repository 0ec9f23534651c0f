package org.adjoint.backend;

/** Softmax and log-softmax along an axis, composed from the core: max, subtract, exp, sum, divide. */
public interface SoftmaxOps extends BackendCore {

    /**
     * Softmax (or log-softmax) along one axis of {@code x} seen as {@code [outer, length, inner]}.
     *
     * <p>The default subtracts each lane's maximum, exponentiates, sums, and divides (or, for
     * log-softmax, subtracts the sum's logarithm): five core calls and three temporaries.
     *
     * @param x      input
     * @param outer  product of the axes before the axis
     * @param length length of the axis
     * @param inner  product of the axes after it
     * @param log    whether to compute log-softmax
     * @param out    output of the input's size
     */
    default void softmax(Buffer x, int outer, int length, int inner, boolean log, Buffer out) {
        if ((long) outer * length * inner == 0) {
            return;
        }
        int[] shape = {outer, length, inner};
        int[] contiguous = {length * inner, inner, 1};
        int[] perLane = {inner, 0, 1};
        Buffer maxima = allocate((long) outer * inner);
        Buffer exponentials = allocate((long) outer * length * inner);
        Buffer sums = allocate((long) outer * inner);
        try {
            max(x, outer, length, inner, maxima, null);
            binary(BinaryOp.SUB, x, contiguous, maxima, perLane, out, shape);
            unary(UnaryOp.EXP, 0f, out, exponentials);
            sumTo(exponentials, shape, sums, perLane);
            if (log) {
                unary(UnaryOp.LOG, 0f, sums, sums);
                binary(BinaryOp.SUB, out, contiguous, sums, perLane, out, shape);
            } else {
                binary(BinaryOp.DIV, exponentials, contiguous, sums, perLane, out, shape);
            }
        } finally {
            release(sums);
            release(exponentials);
            release(maxima);
        }
    }
}
