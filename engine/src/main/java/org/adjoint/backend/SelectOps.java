package org.adjoint.backend;

/**
 * Entries at one list of indices along an axis ({@code Tensor.indexSelect}: an embedding
 * lookup) and its adjoint, the indexed add, composed from the core: the defaults write the
 * list out for every position, {@code [outer, count, inner]} as {@link IndexOps} reads indices,
 * and call {@link #gather} or {@link #scatterAdd}. A backend that can move whole runs of
 * {@code inner} elements overrides them.
 */
public interface SelectOps extends BackendCore {

    /**
     * {@code out[o, j, i] = src[o, indices[j], i]} for {@code j < indices.length}: {@link #gather}
     * with one index per position along the axis.
     *
     * @param src     source, {@code [outer, length, inner]}
     * @param outer   product of the axes before the indexed one
     * @param length  length of the indexed axis of {@code src}
     * @param inner   product of the axes after it
     * @param indices in {@code [0, length)} (the caller checks)
     * @param out     contiguous {@code [outer, indices.length, inner]}
     */
    default void indexSelect(Buffer src, int outer, int length, int inner, int[] indices, Buffer out) {
        if ((long) outer * indices.length * inner == 0) {
            return;
        }
        Buffer expanded = expandIndices(outer, inner, indices);
        try {
            gather(src, outer, length, inner, expanded, indices.length, out);
        } finally {
            release(expanded);
        }
    }

    /**
     * The adjoint of {@link #indexSelect}, adding into {@code out}:
     * {@code out[o, indices[j], i] += values[o, j, i]}, repeated indices adding up in the order
     * of {@code j}: {@link #scatterAdd} with one index per position along the axis.
     *
     * @param values  contiguous {@code [outer, indices.length, inner]}
     * @param outer   product of the axes before the indexed one
     * @param inner   product of the axes after it
     * @param indices in {@code [0, length)} (the caller checks)
     * @param out     {@code [outer, length, inner]}, updated in place
     * @param length  length of the indexed axis of {@code out}
     */
    default void indexAdd(Buffer values, int outer, int inner, int[] indices, Buffer out, int length) {
        if ((long) outer * indices.length * inner == 0) {
            return;
        }
        Buffer expanded = expandIndices(outer, inner, indices);
        try {
            scatterAdd(values, outer, indices.length, inner, expanded, out, length);
        } finally {
            release(expanded);
        }
    }

    /** The indices as {@link IndexOps} reads them: floats, {@code [outer, count, inner]}, in a buffer the caller releases. */
    private Buffer expandIndices(int outer, int inner, int[] indices) {
        float[] values = new float[indices.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = indices[i];
        }
        Buffer row = upload(values);
        if (outer == 1 && inner == 1) {
            return row;
        }
        int[] shape = {outer, indices.length, inner};
        try {
            Buffer full = allocate((long) outer * indices.length * inner);
            copyStrided(row, new int[] {0, 1, 0}, full, shape);
            return full;
        } finally {
            release(row);
        }
    }
}
