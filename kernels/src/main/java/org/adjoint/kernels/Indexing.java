package org.adjoint.kernels;

/**
 * Gather along the middle axis of an array seen as {@code [outer, length, inner]}, and its
 * adjoint, scatter-add. In {@link #gather} and {@link #scatterAdd} indices are floats holding
 * whole numbers (how class labels are stored), one for every element; {@link #selectRows} and
 * {@link #addRows} take one int for each position along the axis and move whole rows.
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

    /**
     * {@code out[o, j, i] = src[o, indices[j], i]}: {@link #gather} with one index per position
     * along the axis, each run of {@code inner} elements copied whole. Rows go to the kernel
     * threads when there are enough of them; a copy does not depend on the split.
     *
     * @param src     source, {@code [outer, length, inner]}
     * @param outer   product of the axes before the indexed one
     * @param length  length of the indexed axis of {@code src}
     * @param inner   product of the axes after it
     * @param indices positions along the axis
     * @param out     {@code [outer, indices.length, inner]}
     * @throws IndexOutOfBoundsException naming the index when one lies outside {@code [0, length)},
     *                                   before anything is written
     */
    public static void selectRows(float[] src, int outer, int length, int inner, int[] indices, float[] out) {
        check(indices, length);
        int count = indices.length;
        Parallel.rows(outer * count, Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, inner)), (from, to) -> {
            for (int r = from; r < to; r++) {
                int o = r / count;
                System.arraycopy(src, (o * length + indices[r - o * count]) * inner, out, r * inner, inner);
            }
        });
    }

    /**
     * {@code out[o, indices[j], i] += values[o, j, i]}: {@link #scatterAdd} with one index per
     * position along the axis, repeated indices adding up in the order of {@code j} as there.
     * The kernel threads take ranges of {@code i}, each walking all of {@code j}, so every
     * element sees the same additions in the same order whatever the split.
     *
     * @param values  {@code [outer, indices.length, inner]}
     * @param outer   product of the axes before the indexed one
     * @param inner   product of the axes after it
     * @param indices positions along the axis
     * @param out     {@code [outer, length, inner]}, updated in place
     * @param length  length of the indexed axis of {@code out}
     * @throws IndexOutOfBoundsException naming the index when one lies outside {@code [0, length)},
     *                                   before anything is written
     */
    public static void addRows(float[] values, int outer, int inner, int[] indices, float[] out, int length) {
        check(indices, length);
        int count = indices.length;
        long work = (long) outer * count * inner;
        int columns = (int) Math.max(1, Math.min(inner, ElementWise.MEMORY_GRAIN * (long) inner / Math.max(1, work)));
        Parallel.ranges(inner, columns, (from, to) -> {
            for (int o = 0; o < outer; o++) {
                for (int j = 0; j < count; j++) {
                    int at = (o * count + j) * inner;
                    int into = (o * length + indices[j]) * inner;
                    for (int i = from; i < to; i++) {
                        out[into + i] += values[at + i];
                    }
                }
            }
        });
    }

    private static void check(int[] indices, int length) {
        for (int j = 0; j < indices.length; j++) {
            if (indices[j] < 0 || indices[j] >= length) {
                throw new IndexOutOfBoundsException("index " + indices[j] + " (position " + j + ") is not in [0, "
                        + length + ")");
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
