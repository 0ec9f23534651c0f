package org.adjoint.kernels;

import java.util.Arrays;

/**
 * The sums over axes behind {@link Strided#sumTo} (how a broadcast's gradient is reduced back
 * to its operand's shape) and {@link Strided#sumToParts}, the CPU twin of the CUDA backend's
 * split sum.
 */
final class StridedSum {

    private StridedSum() {
    }

    /**
     * One row of {@link Strided#sumTo}: adds {@code src[s + i]} into {@code out[o + i·os]} for
     * {@code i < n}; with {@code os == 0} that is a sum of the row into one element.
     */
    @FunctionalInterface
    interface Row {
        /**
         * Accumulates one row.
         *
         * @param src source storage
         * @param s   first source element (stride 1)
         * @param out output storage
         * @param o   first output element
         * @param os  output stride (0 or more)
         * @param n   row length
         */
        void row(float[] src, int s, float[] out, int o, int os, int n);
    }

    /**
     * Many rows of {@link Strided#sumTo} into one output row: adds {@code src[s + r·ld + i]}
     * into {@code out[o + i]} for {@code i < n}, over {@code r < rows} in order, so each output
     * element gets the terms {@link Row} would have added one row at a time, in the same order.
     * A kernel can then keep a block of sums in registers down all the rows instead of loading
     * and storing the output row once per row.
     */
    @FunctionalInterface
    interface Columns {
        /**
         * Accumulates {@code rows} rows.
         *
         * @param src  source storage
         * @param s    first source element of the first row (stride 1 along a row)
         * @param ld   between source rows
         * @param rows row count
         * @param out  output storage
         * @param o    first output element (stride 1)
         * @param n    row length
         */
        void columns(float[] src, int s, int ld, int rows, float[] out, int o, int n);
    }

    /**
     * {@link Strided#sumTo} with given row kernels, after merging axes as
     * {@link StridedBinary#binary} does. A sum of the rows of a matrix into one row (a bias's
     * gradient: the merged shape {@code [rows, n]} with the output contiguous along {@code n})
     * goes to {@code columns}, every other to {@code rows}.
     */
    static void sumTo(Row rows, Columns columns, float[] src, int srcOffset, int[] shape, float[] out, int outOffset,
                      int[] outStrides, int outSize) {
        Arrays.fill(out, outOffset, outOffset + outSize, 0f);
        if (Strided.size(shape) == 0) {
            return;
        }
        int[][] layout = StridedLayout.collapse(shape, StridedLayout.contiguous(shape), outStrides);
        int[] merged = layout[0];
        int[] srcMerged = layout[1];
        int[] outMerged = layout[2];
        int rank = merged.length;
        if (rank == 0) {
            out[outOffset] = src[srcOffset];
            return;
        }
        // Threads take runs of the longest kept axis: each output element is then summed by one
        // thread, over the other axes in the order of the whole walk (the inner axis is split
        // only when it is kept, where its row adds element by element).
        int split = -1;
        for (int axis = 0; axis < rank; axis++) {
            if (outMerged[axis] != 0 && (split < 0 || merged[axis] > merged[split])) {
                split = axis;
            }
        }
        if (split < 0) {
            walk(rows, src, srcOffset, srcMerged, out, outOffset, outMerged, merged);
            return;
        }
        int axis = split;
        int unit = Strided.size(merged) / merged[axis];
        int minimum = Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, unit));
        if (rank == 2 && axis == 1 && outMerged[0] == 0 && outMerged[1] == 1 && srcMerged[1] == 1) {
            Parallel.ranges(merged[1], Math.max(minimum, Parallel.ALIGN), (from, to) -> columns.columns(src,
                    srcOffset + from, srcMerged[0], merged[0], out, outOffset + from, to - from));
            return;
        }
        Parallel.Range part = (from, to) -> {
            int[] narrowed = merged.clone();
            narrowed[axis] = to - from;
            walk(rows, src, srcOffset + from * srcMerged[axis], srcMerged, out,
                    outOffset + from * outMerged[axis], outMerged, narrowed);
        };
        if (axis == rank - 1) {
            Parallel.ranges(merged[axis], Math.max(minimum, Parallel.ALIGN), part);
        } else {
            Parallel.rows(merged[axis], minimum, part);
        }
    }

    /** The walk of {@link #sumTo} over merged axes (rank at least 1). */
    private static void walk(Row rows, float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset,
                             int[] outStrides, int[] shape) {
        int rank = shape.length;
        int inner = shape[rank - 1];
        int innerStride = outStrides[rank - 1];
        StridedRows at = new StridedRows(shape, srcStrides, srcOffset, outStrides, outOffset);
        do {
            rows.row(src, at.first, out, at.second, innerStride, inner);
        } while (at.next());
    }

    /**
     * The sum of {@code x}'s squares with the bits of the scalar product of {@code x} by itself
     * followed by {@link #scalarRow} of it into a zero.
     */
    static float scalarSumOfSquares(float[] x) {
        float sum = 0f;
        for (int i = 0; i < x.length; i++) {
            sum += x[i] * x[i];
        }
        return sum;
    }

    /** The scalar {@link Row}. */
    static void scalarRow(float[] src, int s, float[] out, int o, int os, int n) {
        if (os == 0) {
            float sum = out[o];
            for (int i = 0; i < n; i++) {
                sum += src[s + i];
            }
            out[o] = sum;
        } else {
            for (int i = 0; i < n; i++) {
                out[o + i * os] += src[s + i];
            }
        }
    }

    /** The scalar {@link Columns}: {@link #scalarRow} row after row. */
    static void scalarColumns(float[] src, int s, int ld, int rows, float[] out, int o, int n) {
        for (int r = 0; r < rows; r++) {
            scalarRow(src, s + r * ld, out, o, 1, n);
        }
    }

    /** {@link Strided#sumToParts}: position {@code j} of each output goes to part {@code j % parts}. */
    static void sumToParts(float[] src, int[] shape, int[] outStrides, int parts, boolean partsInner,
                           float[] partials) {
        int outCount = partials.length / parts;
        Arrays.fill(partials, 0f);
        int count = Strided.size(shape);
        for (int i = 0; i < count; i++) {
            int rest = i;
            int output = 0;
            int position = 0;
            int keptScale = 1;
            int summedScale = 1;
            for (int axis = shape.length - 1; axis >= 0; axis--) {
                int coordinate = rest % shape[axis];
                rest /= shape[axis];
                if (outStrides[axis] != 0) {
                    output += coordinate * keptScale;
                    keptScale *= shape[axis];
                } else {
                    position += coordinate * summedScale;
                    summedScale *= shape[axis];
                }
            }
            int part = position % parts;
            int index = partsInner ? output * parts + part : part * outCount + output;
            partials[index] += src[i];
        }
    }
}
