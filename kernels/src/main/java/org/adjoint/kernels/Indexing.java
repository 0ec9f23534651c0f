package org.adjoint.kernels;

/**
 * Gather along the middle axis of an array seen as {@code [outer, length, inner]}, and its
 * adjoint, scatter-add. Indices are floats holding whole numbers (how class labels are stored).
 */
public final class Indexing {

    private Indexing() {
    }

    /**
     * {@code out[o, j, i] = src[o, indices[o, j, i], i]} for {@code j < count}.
     *
     * @param src     source, {@code [outer, length, inner]}
     * @param outer   product of the axes before the indexed one
     * @param length  length of the indexed axis of {@code src}
     * @param inner   product of the axes after it
     * @param indices {@code [outer, count, inner]}
     * @param count   length of the indexed axis of {@code out}
     * @param out     {@code [outer, count, inner]}
     * @throws IndexOutOfBoundsException naming the index when one lies outside {@code [0, length)}
     */
    public static void gather(float[] src, int outer, int length, int inner, float[] indices, int count, float[] out) {
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < count; j++) {
                int at = (o * count + j) * inner;
                for (int i = 0; i < inner; i++) {
                    out[at + i] = src[(o * length + index(indices[at + i], length)) * inner + i];
                }
            }
        }
    }

    /**
     * {@code out[o, indices[o, j, i], i] += values[o, j, i]}; repeated indices add up in order.
     *
     * @param values  {@code [outer, count, inner]}
     * @param outer   product of the axes before the indexed one
     * @param count   length of the indexed axis of {@code values}
     * @param inner   product of the axes after it
     * @param indices {@code [outer, count, inner]}
     * @param out     {@code [outer, length, inner]}, updated in place
     * @param length  length of the indexed axis of {@code out}
     * @throws IndexOutOfBoundsException naming the index when one lies outside {@code [0, length)}
     */
    public static void scatterAdd(float[] values, int outer, int count, int inner, float[] indices, float[] out,
                                  int length) {
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < count; j++) {
                int at = (o * count + j) * inner;
                for (int i = 0; i < inner; i++) {
                    out[(o * length + index(indices[at + i], length)) * inner + i] += values[at + i];
                }
            }
        }
    }

    private static int index(float value, int length) {
        int index = (int) value;
        if (index != value || index < 0 || index >= length) {
            throw new IndexOutOfBoundsException("index " + value + " is not a whole number in [0, " + length + ")");
        }
        return index;
    }
}
