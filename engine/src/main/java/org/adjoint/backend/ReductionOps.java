package org.adjoint.backend;

/** The reduction part of the required core: sums over axes and the maximum along one axis. */
public interface ReductionOps {

    /**
     * Sums contiguous {@code src} of {@code shape} into {@code out}, which is addressed by
     * {@code outStrides} per source axis (0 on summed axes).
     *
     * @param src        source, contiguous over {@code shape}
     * @param shape      source shape
     * @param out        output (overwritten)
     * @param outStrides output stride per source axis
     */
    void sumTo(Buffer src, int[] shape, Buffer out, int[] outStrides);

    /**
     * Maximum along one axis of {@code x} seen as {@code [outer, length, inner]}, and a
     * one-hot mask of the input's size marking the first maximal element of each lane.
     *
     * @param x      input
     * @param outer  product of the axes before the reduced one
     * @param length length of the reduced axis (at least 1)
     * @param inner  product of the axes after it
     * @param values output, {@code outer * inner} elements
     * @param mask   output of the input's size, or {@code null} when only the values are wanted
     */
    void max(Buffer x, int outer, int length, int inner, Buffer values, Buffer mask);
}
