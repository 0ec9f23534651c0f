package org.adjoint.backend;

/**
 * The indexing part of the required core: gather along an axis and its adjoint, scatter-add.
 * Indices are stored as float32 values that are whole numbers (class labels are kept so until
 * integer element types land); the caller checks that each lies in {@code [0, length)}.
 */
public interface IndexOps {

    /**
     * Picks entries along the middle axis of {@code src} seen as {@code [outer, length, inner]}:
     * {@code out[o, j, i] = src[o, indices[o, j, i], i]} for {@code j < count}; {@code indices}
     * and {@code out} are contiguous {@code [outer, count, inner]}.
     *
     * @param src     source
     * @param outer   product of the axes before the indexed one
     * @param length  length of the indexed axis of {@code src}
     * @param inner   product of the axes after it
     * @param indices {@code outer * count * inner} indices
     * @param count   length of the indexed axis of {@code out}
     * @param out     output
     */
    void gather(Buffer src, int outer, int length, int inner, Buffer indices, int count, Buffer out);

    /**
     * The adjoint of {@link #gather}, adding into {@code out} seen as {@code [outer, length, inner]}:
     * {@code out[o, indices[o, j, i], i] += values[o, j, i]}; repeated indices add up.
     *
     * @param values  contiguous {@code [outer, count, inner]}
     * @param outer   product of the axes before the indexed one
     * @param count   length of the indexed axis of {@code values}
     * @param inner   product of the axes after it
     * @param indices {@code outer * count * inner} indices
     * @param out     updated in place
     * @param length  length of the indexed axis of {@code out}
     */
    void scatterAdd(Buffer values, int outer, int count, int inner, Buffer indices, Buffer out, int length);
}
