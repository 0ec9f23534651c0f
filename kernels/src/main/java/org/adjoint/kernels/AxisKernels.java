package org.adjoint.kernels;

/**
 * The reductions along one axis of a {@link KernelProvider}: softmax (and log-softmax) and the
 * maximum with its one-hot mask.
 */
public interface AxisKernels {

    /**
     * Softmax or log-softmax along an axis, as {@link AxisReductions#softmax}.
     *
     * @param x      input
     * @param outer  product of the axes before the axis
     * @param length the axis length
     * @param inner  product of the axes after it
     * @param log    log-softmax instead
     * @param out    output
     */
    void softmax(float[] x, int outer, int length, int inner, boolean log, float[] out);

    /**
     * The maximum along an axis and the one-hot mask of each lane's first maximum (a NaN wins),
     * as {@link AxisReductions#max}; the same bits from every provider.
     *
     * @param x      input {@code [outer, length, inner]}
     * @param outer  product of the axes before the axis
     * @param length the axis length
     * @param inner  product of the axes after it
     * @param values output {@code [outer, inner]}
     * @param mask   output of the input's size, or {@code null}
     */
    default void max(float[] x, int outer, int length, int inner, float[] values, float[] mask) {
        AxisReductions.max(x, outer, length, inner, values, mask);
    }
}
