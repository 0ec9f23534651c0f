package org.adjoint.kernels;

import java.util.Arrays;

/**
 * Loops over an n-dimensional index space whose operands are addressed by per-axis strides.
 *
 * <p>A stride of 0 repeats an element along that axis, which is how NumPy broadcasting and
 * {@code expand} are expressed; swapped strides express a transpose. Outputs are always
 * contiguous in the iteration shape unless stated otherwise. All shapes have the same rank
 * as their stride arrays; rank 0 means one element.
 */
public final class Strided {

    private Strided() {
    }

    /** A binary element-wise function. */
    public enum Binary {
        /** {@code lhs + rhs}. */
        ADD,
        /** {@code lhs - rhs}. */
        SUB,
        /** {@code lhs * rhs}. */
        MUL,
        /** {@code lhs / rhs}. */
        DIV
    }

    /**
     * {@code out[i] = function(lhs[...], rhs[...])} over {@code shape}, with {@code out}
     * contiguous.
     *
     * @param function   which function
     * @param lhs        left operand storage
     * @param lhsOffset  its first element
     * @param lhsStrides its stride per axis (0 broadcasts)
     * @param rhs        right operand storage
     * @param rhsOffset  its first element
     * @param rhsStrides its stride per axis (0 broadcasts)
     * @param out        output storage, contiguous over {@code shape}
     * @param outOffset  first output element
     * @param shape      iteration shape
     */
    public static void binary(Binary function, float[] lhs, int lhsOffset, int[] lhsStrides,
                              float[] rhs, int rhsOffset, int[] rhsStrides,
                              float[] out, int outOffset, int[] shape) {
        binary(Strided::binaryRow, function, lhs, lhsOffset, lhsStrides, rhs, rhsOffset, rhsStrides, out, outOffset, shape);
    }

    /**
     * One row of a binary operation: {@code out[o + i] = f(lhs[l + i·ls], rhs[r + i·rs])} for
     * {@code i < n}. Providers supply their own, vectorised where strides are 0 or 1.
     */
    @FunctionalInterface
    public interface BinaryRow {
        /**
         * Computes one row.
         *
         * @param function which function
         * @param lhs      left storage
         * @param l        first left element
         * @param ls       left stride
         * @param rhs      right storage
         * @param r        first right element
         * @param rs       right stride
         * @param out      output storage
         * @param o        first output element (output stride 1)
         * @param n        row length
         */
        void row(Binary function, float[] lhs, int l, int ls, float[] rhs, int r, int rs, float[] out, int o, int n);
    }

    /**
     * {@link #binary(Binary, float[], int, int[], float[], int, int[], float[], int, int[])}
     * with a given row kernel. Axes that every operand walks contiguously are merged first,
     * so that rows are as long as the layout allows.
     *
     * @param rows       the row kernel
     * @param function   which function
     * @param lhs        left operand storage
     * @param lhsOffset  its first element
     * @param lhsStrides its stride per axis
     * @param rhs        right operand storage
     * @param rhsOffset  its first element
     * @param rhsStrides its stride per axis
     * @param out        contiguous output
     * @param outOffset  first output element
     * @param shape      iteration shape
     */
    public static void binary(BinaryRow rows, Binary function, float[] lhs, int lhsOffset, int[] lhsStrides,
                              float[] rhs, int rhsOffset, int[] rhsStrides,
                              float[] out, int outOffset, int[] shape) {
        if (size(shape) == 0) {
            return;
        }
        if (shape.length == 1) {
            // A flat row, as every optimizer update is: nothing to merge, so nothing to allocate.
            int ls = lhsStrides[0];
            int rs = rhsStrides[0];
            Parallel.ranges(shape[0], ElementWise.MEMORY_GRAIN, (from, to) -> rows.row(function, lhs,
                    lhsOffset + from * ls, ls, rhs, rhsOffset + from * rs, rs, out, outOffset + from, to - from));
            return;
        }
        int[][] layout = collapse(shape, lhsStrides, rhsStrides);
        int[] merged = layout[0];
        int[] lhsMerged = layout[1];
        int[] rhsMerged = layout[2];
        if (merged.length == 0) {
            rows.row(function, lhs, lhsOffset, 0, rhs, rhsOffset, 0, out, outOffset, 1);
            return;
        }
        if (merged.length == 1) {
            int ls = lhsMerged[0];
            int rs = rhsMerged[0];
            Parallel.ranges(merged[0], ElementWise.MEMORY_GRAIN, (from, to) -> rows.row(function, lhs,
                    lhsOffset + from * ls, ls, rhs, rhsOffset + from * rs, rs, out, outOffset + from, to - from));
            return;
        }
        int inner = size(merged) / merged[0];
        overOuterAxis(merged, (first, part) -> binaryWalk(rows, function, lhs, lhsOffset + first * lhsMerged[0],
                lhsMerged, rhs, rhsOffset + first * rhsMerged[0], rhsMerged, out, outOffset + first * inner, part));
    }

    /** A walk over part of a shape: its outer axis narrowed to the run that starts at index {@code first}. */
    private interface OuterRun {
        void walk(int first, int[] part);
    }

    /**
     * Runs {@code run} over runs of {@code shape}'s outer axis on the kernel threads (one run when
     * the shape is small), each walking its own part of the operands.
     */
    private static void overOuterAxis(int[] shape, OuterRun run) {
        int unit = size(shape) / shape[0];
        Parallel.rows(shape[0], Math.max(1, ElementWise.MEMORY_GRAIN / unit), (first, end) -> {
            int[] part = shape.clone();
            part[0] = end - first;
            run.walk(first, part);
        });
    }

    /** The walk of {@link #binary(BinaryRow, Binary, float[], int, int[], float[], int, int[], float[], int, int[])} over merged axes (rank at least 1). */
    private static void binaryWalk(BinaryRow rows, Binary function, float[] lhs, int lhsOffset, int[] lhsStrides,
                                   float[] rhs, int rhsOffset, int[] rhsStrides, float[] out, int outOffset,
                                   int[] shape) {
        int rank = shape.length;
        int inner = shape[rank - 1];
        int lhsInner = lhsStrides[rank - 1];
        int rhsInner = rhsStrides[rank - 1];
        int[] index = new int[rank];
        int lhsPos = lhsOffset;
        int rhsPos = rhsOffset;
        int outPos = outOffset;
        while (true) {
            rows.row(function, lhs, lhsPos, lhsInner, rhs, rhsPos, rhsInner, out, outPos, inner);
            outPos += inner;
            int axis = rank - 2;
            while (axis >= 0) {
                index[axis]++;
                lhsPos += lhsStrides[axis];
                rhsPos += rhsStrides[axis];
                if (index[axis] < shape[axis]) {
                    break;
                }
                lhsPos -= lhsStrides[axis] * shape[axis];
                rhsPos -= rhsStrides[axis] * shape[axis];
                index[axis] = 0;
                axis--;
            }
            if (axis < 0) {
                return;
            }
        }
    }

    /**
     * Drops axes of length 1 and merges each axis into the next one wherever every operand
     * (and the contiguous output) steps over the inner axis exactly: {@code stride[i] ==
     * stride[i+1] · shape[i+1]}. The element order is unchanged.
     *
     * @param shape   iteration shape (no zero dimension)
     * @param strides each operand's strides over {@code shape}
     * @return the new shape followed by each operand's new strides
     */
    static int[][] collapse(int[] shape, int[]... strides) {
        int rank = shape.length;
        int[] newShape = new int[rank];
        int[][] newStrides = new int[strides.length][rank];
        int count = 0;
        for (int axis = rank - 1; axis >= 0; axis--) {
            if (shape[axis] == 1) {
                continue;
            }
            if (count > 0 && mergeable(shape, strides, axis, newShape[rank - count], newStrides, rank - count)) {
                newShape[rank - count] *= shape[axis];
                continue;
            }
            count++;
            newShape[rank - count] = shape[axis];
            for (int op = 0; op < strides.length; op++) {
                newStrides[op][rank - count] = strides[op][axis];
            }
        }
        int[][] result = new int[strides.length + 1][];
        result[0] = java.util.Arrays.copyOfRange(newShape, rank - count, rank);
        for (int op = 0; op < strides.length; op++) {
            result[op + 1] = java.util.Arrays.copyOfRange(newStrides[op], rank - count, rank);
        }
        return result;
    }

    private static boolean mergeable(int[] shape, int[][] strides, int axis, int innerSize, int[][] newStrides, int inner) {
        // The output is contiguous, so its inner axis has stride 1 relative to the group: only
        // operands' strides need checking, each against its own inner stride.
        for (int op = 0; op < strides.length; op++) {
            if (strides[op][axis] != newStrides[op][inner] * innerSize) {
                return false;
            }
        }
        return true;
    }

    static void binaryRow(Binary function, float[] lhs, int l, int ls, float[] rhs, int r, int rs,
                                  float[] out, int o, int n) {
        // The common broadcasts (same shape, scalar or row on either side) get loops with
        // unit or zero stride that C2 can vectorise; anything else takes the general loop.
        if (ls == 1 && rs == 1) {
            switch (function) {
                case ADD -> { for (int i = 0; i < n; i++) { out[o + i] = lhs[l + i] + rhs[r + i]; } }
                case SUB -> { for (int i = 0; i < n; i++) { out[o + i] = lhs[l + i] - rhs[r + i]; } }
                case MUL -> { for (int i = 0; i < n; i++) { out[o + i] = lhs[l + i] * rhs[r + i]; } }
                case DIV -> { for (int i = 0; i < n; i++) { out[o + i] = lhs[l + i] / rhs[r + i]; } }
            }
        } else if (ls == 1 && rs == 0) {
            float v = rhs[r];
            switch (function) {
                case ADD -> { for (int i = 0; i < n; i++) { out[o + i] = lhs[l + i] + v; } }
                case SUB -> { for (int i = 0; i < n; i++) { out[o + i] = lhs[l + i] - v; } }
                case MUL -> { for (int i = 0; i < n; i++) { out[o + i] = lhs[l + i] * v; } }
                case DIV -> { for (int i = 0; i < n; i++) { out[o + i] = lhs[l + i] / v; } }
            }
        } else if (ls == 0 && rs == 1) {
            float v = lhs[l];
            switch (function) {
                case ADD -> { for (int i = 0; i < n; i++) { out[o + i] = v + rhs[r + i]; } }
                case SUB -> { for (int i = 0; i < n; i++) { out[o + i] = v - rhs[r + i]; } }
                case MUL -> { for (int i = 0; i < n; i++) { out[o + i] = v * rhs[r + i]; } }
                case DIV -> { for (int i = 0; i < n; i++) { out[o + i] = v / rhs[r + i]; } }
            }
        } else {
            for (int i = 0; i < n; i++) {
                float a = lhs[l + i * ls];
                float b = rhs[r + i * rs];
                out[o + i] = switch (function) {
                    case ADD -> a + b;
                    case SUB -> a - b;
                    case MUL -> a * b;
                    case DIV -> a / b;
                };
            }
        }
    }

    /**
     * {@code out[i] = mask[...] != 0 ? value : x[...]} over {@code shape}, with {@code out}
     * contiguous; a NaN in the mask counts as zero.
     *
     * @param x           operand storage
     * @param xOffset     its first element
     * @param xStrides    its stride per axis (0 broadcasts)
     * @param mask        mask storage
     * @param maskOffset  its first element
     * @param maskStrides its stride per axis (0 broadcasts)
     * @param value       the fill value
     * @param out         output storage, contiguous over {@code shape}
     * @param outOffset   first output element
     * @param shape       iteration shape
     */
    public static void maskedFill(float[] x, int xOffset, int[] xStrides, float[] mask, int maskOffset,
                                  int[] maskStrides, float value, float[] out, int outOffset, int[] shape) {
        // The binary walk (axes merged, rows as long as the layout allows) with a row that selects.
        binary((unused, lhs, l, ls, rhs, r, rs, o, at, n) -> {
            for (int i = 0; i < n; i++) {
                float m = rhs[r + i * rs];
                o[at + i] = m > 0 || m < 0 ? value : lhs[l + i * ls];
            }
        }, null, x, xOffset, xStrides, mask, maskOffset, maskStrides, out, outOffset, shape);
    }

    /**
     * Copies a strided view into a strided view: element {@code (i0, ...)} of {@code shape}
     * goes from {@code src[srcOffset + Σ ik·srcStrides[k]]} to
     * {@code out[outOffset + Σ ik·outStrides[k]]}; the rest of {@code out} is untouched.
     *
     * @param src        source storage
     * @param srcOffset  first source element
     * @param srcStrides source stride per axis
     * @param out        output storage
     * @param outOffset  first output element
     * @param outStrides output stride per axis
     * @param shape      iteration shape
     */
    public static void copy(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset, int[] outStrides,
                            int[] shape) {
        int rank = shape.length;
        if (rank == 0) {
            out[outOffset] = src[srcOffset];
            return;
        }
        if (size(shape) == 0) {
            return;
        }
        overOuterAxis(shape, (first, part) -> copyWalk(src, srcOffset + first * srcStrides[0], srcStrides, out,
                outOffset + first * outStrides[0], outStrides, part));
    }

    private static void copyWalk(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset,
                                 int[] outStrides, int[] shape) {
        int rank = shape.length;
        int inner = shape[rank - 1];
        int innerStride = srcStrides[rank - 1];
        int outStride = outStrides[rank - 1];
        int[] index = new int[rank];
        int srcPos = srcOffset;
        int outPos = outOffset;
        while (true) {
            if (innerStride == 1 && outStride == 1) {
                System.arraycopy(src, srcPos, out, outPos, inner);
            } else {
                for (int i = 0; i < inner; i++) {
                    out[outPos + i * outStride] = src[srcPos + i * innerStride];
                }
            }
            int axis = rank - 2;
            while (axis >= 0) {
                index[axis]++;
                srcPos += srcStrides[axis];
                outPos += outStrides[axis];
                if (index[axis] < shape[axis]) {
                    break;
                }
                srcPos -= srcStrides[axis] * shape[axis];
                outPos -= outStrides[axis] * shape[axis];
                index[axis] = 0;
                axis--;
            }
            if (axis < 0) {
                return;
            }
        }
    }

    /**
     * Gathers a strided view into contiguous storage: {@code out[i] = src[offset + Σ index·stride]}.
     *
     * @param src        source storage
     * @param srcOffset  its first element
     * @param srcStrides its stride per axis
     * @param out        output storage, contiguous over {@code shape}
     * @param outOffset  first output element
     * @param shape      iteration shape
     */
    public static void copy(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset, int[] shape) {
        int rank = shape.length;
        if (rank == 0) {
            out[outOffset] = src[srcOffset];
            return;
        }
        int total = size(shape);
        if (total == 0) {
            return;
        }
        int unit = total / shape[0];
        overOuterAxis(shape, (first, part) -> gatherWalk(src, srcOffset + first * srcStrides[0], srcStrides, out,
                outOffset + first * unit, part));
    }

    private static void gatherWalk(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset,
                                   int[] shape) {
        int rank = shape.length;
        int inner = shape[rank - 1];
        int innerStride = srcStrides[rank - 1];
        int[] index = new int[rank];
        int srcPos = srcOffset;
        int outPos = outOffset;
        while (true) {
            if (innerStride == 1) {
                System.arraycopy(src, srcPos, out, outPos, inner);
            } else if (innerStride == 0) {
                java.util.Arrays.fill(out, outPos, outPos + inner, src[srcPos]);
            } else {
                for (int i = 0; i < inner; i++) {
                    out[outPos + i] = src[srcPos + i * innerStride];
                }
            }
            outPos += inner;
            int axis = rank - 2;
            while (axis >= 0) {
                index[axis]++;
                srcPos += srcStrides[axis];
                if (index[axis] < shape[axis]) {
                    break;
                }
                srcPos -= srcStrides[axis] * shape[axis];
                index[axis] = 0;
                axis--;
            }
            if (axis < 0) {
                return;
            }
        }
    }

    /**
     * The first pass of the CUDA backend's split sum ({@code sum_to_parts} in
     * {@code adjoint.cu}), on the CPU: the reference that the device kernel is tested against.
     * Output elements are numbered row-major over the kept axes (those with an output stride)
     * and each one's summed positions row-major over the summed axes; position {@code j} goes
     * to part {@code j % parts}, and each part adds its positions in increasing {@code j}, in
     * float, from 0.
     *
     * @param src        source storage, contiguous over {@code shape}
     * @param shape      source shape
     * @param outStrides output stride per source axis (0 where the axis is summed)
     * @param parts      partial sums per output element, at least 1
     * @param partsInner lay the partials out {@code [outputs][parts]} rather than {@code [parts][outputs]}
     * @param partials   output, outputs × {@code parts} elements (overwritten)
     */
    public static void sumToParts(float[] src, int[] shape, int[] outStrides, int parts, boolean partsInner,
                                  float[] partials) {
        int outCount = partials.length / parts;
        Arrays.fill(partials, 0f);
        int count = size(shape);
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

    /**
     * Sums a contiguous array of {@code shape} into a smaller output addressed by
     * {@code outStrides} (0 on every axis that is summed away). The output is overwritten.
     * Elements are added in row-major order of the source, so the result is deterministic.
     *
     * @param src        source storage, contiguous over {@code shape}
     * @param srcOffset  its first element
     * @param shape      source shape
     * @param out        output storage
     * @param outOffset  first output element
     * @param outStrides output stride per source axis (0 where the axis is reduced)
     * @param outSize    number of output elements (zeroed first)
     */
    public static void sumTo(float[] src, int srcOffset, int[] shape, float[] out, int outOffset, int[] outStrides, int outSize) {
        sumTo(Strided::sumRow, src, srcOffset, shape, out, outOffset, outStrides, outSize);
    }

    /**
     * One row of {@link #sumTo}: adds {@code src[s + i]} into {@code out[o + i·os]} for
     * {@code i < n}; with {@code os == 0} that is a sum of the row into one element.
     */
    @FunctionalInterface
    public interface SumRow {
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
     * {@link #sumTo(float[], int, int[], float[], int, int[], int)} with a given row kernel,
     * after merging axes as {@link #binary(BinaryRow, Binary, float[], int, int[], float[], int, int[], float[], int, int[])} does.
     *
     * @param rows       the row kernel
     * @param src        source storage, contiguous over {@code shape}
     * @param srcOffset  its first element
     * @param shape      source shape
     * @param out        output storage
     * @param outOffset  first output element
     * @param outStrides output stride per source axis (0 where reduced)
     * @param outSize    number of output elements (zeroed first)
     */
    public static void sumTo(SumRow rows, float[] src, int srcOffset, int[] shape, float[] out, int outOffset,
                             int[] outStrides, int outSize) {
        java.util.Arrays.fill(out, outOffset, outOffset + outSize, 0f);
        if (size(shape) == 0) {
            return;
        }
        int[][] layout = collapse(shape, contiguous(shape), outStrides);
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
            sumToWalk(rows, src, srcOffset, srcMerged, out, outOffset, outMerged, merged);
            return;
        }
        int axis = split;
        int unit = size(merged) / merged[axis];
        Parallel.Range part = (from, to) -> {
            int[] narrowed = merged.clone();
            narrowed[axis] = to - from;
            sumToWalk(rows, src, srcOffset + from * srcMerged[axis], srcMerged, out,
                    outOffset + from * outMerged[axis], outMerged, narrowed);
        };
        int minimum = Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, unit));
        if (axis == rank - 1) {
            Parallel.ranges(merged[axis], Math.max(minimum, Parallel.ALIGN), part);
        } else {
            Parallel.rows(merged[axis], minimum, part);
        }
    }

    /** The walk of {@link #sumTo(SumRow, float[], int, int[], float[], int, int[], int)} over merged axes (rank at least 1). */
    private static void sumToWalk(SumRow rows, float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset,
                                  int[] outStrides, int[] shape) {
        int rank = shape.length;
        int inner = shape[rank - 1];
        int innerStride = outStrides[rank - 1];
        int[] index = new int[rank];
        int srcPos = srcOffset;
        int outPos = outOffset;
        while (true) {
            rows.row(src, srcPos, out, outPos, innerStride, inner);
            int axis = rank - 2;
            while (axis >= 0) {
                index[axis]++;
                srcPos += srcStrides[axis];
                outPos += outStrides[axis];
                if (index[axis] < shape[axis]) {
                    break;
                }
                srcPos -= srcStrides[axis] * shape[axis];
                outPos -= outStrides[axis] * shape[axis];
                index[axis] = 0;
                axis--;
            }
            if (axis < 0) {
                return;
            }
        }
    }

    private static void sumRow(float[] src, int s, float[] out, int o, int os, int n) {
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

    private static int[] contiguous(int[] shape) {
        int[] strides = new int[shape.length];
        int stride = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = stride;
            stride *= shape[i];
        }
        return strides;
    }

    /**
     * Product of the dimensions.
     *
     * @param shape dimensions
     * @return their product (1 for rank 0)
     */
    public static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}
