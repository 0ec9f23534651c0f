package org.adjoint.kernels;

import org.adjoint.kernels.Strided.Binary;

/**
 * The binary element-wise loop over strided operands behind {@link Strided#binary} and
 * {@link Strided#maskedFill}: axes merged, rows dealt to the kernel threads, one row kernel
 * per row. The scalar row kernel is here; {@link VectorBinary} is the Vector API one.
 */
final class StridedBinary {

    private StridedBinary() {
    }

    /**
     * One row of a binary operation: {@code out[o + i] = f(lhs[l + i·ls], rhs[r + i·rs])} for
     * {@code i < n}. Providers supply their own, vectorised where strides are 0 or 1.
     */
    @FunctionalInterface
    interface Row {
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
     * {@link Strided#binary} with a given row kernel. Axes that every operand walks
     * contiguously are merged first, so that rows are as long as the layout allows.
     */
    static void binary(Row rows, Binary function, float[] lhs, int lhsOffset, int[] lhsStrides,
                       float[] rhs, int rhsOffset, int[] rhsStrides, float[] out, int outOffset, int[] shape) {
        if (Strided.size(shape) == 0) {
            return;
        }
        if (shape.length == 1) {
            // A flat row, as every optimizer update is: nothing to merge, so nothing to allocate.
            flat(rows, function, lhs, lhsOffset, lhsStrides[0], rhs, rhsOffset, rhsStrides[0], out, outOffset, shape[0]);
            return;
        }
        int[][] layout = StridedLayout.collapse(shape, lhsStrides, rhsStrides);
        int[] merged = layout[0];
        int[] lhsMerged = layout[1];
        int[] rhsMerged = layout[2];
        if (merged.length == 0) {
            rows.row(function, lhs, lhsOffset, 0, rhs, rhsOffset, 0, out, outOffset, 1);
            return;
        }
        if (merged.length == 1) {
            flat(rows, function, lhs, lhsOffset, lhsMerged[0], rhs, rhsOffset, rhsMerged[0], out, outOffset, merged[0]);
            return;
        }
        int inner = Strided.size(merged) / merged[0];
        StridedLayout.overOuterAxis(merged, (first, part) -> walk(rows, function, lhs, lhsOffset + first * lhsMerged[0],
                lhsMerged, rhs, rhsOffset + first * rhsMerged[0], rhsMerged, out, outOffset + first * inner, part));
    }

    /** One row of {@code n}, in element ranges on the kernel threads. */
    private static void flat(Row rows, Binary function, float[] lhs, int lhsOffset, int ls, float[] rhs, int rhsOffset,
                             int rs, float[] out, int outOffset, int n) {
        Parallel.ranges(n, ElementWise.MEMORY_GRAIN, (from, to) -> rows.row(function, lhs,
                lhsOffset + from * ls, ls, rhs, rhsOffset + from * rs, rs, out, outOffset + from, to - from));
    }

    /** The walk of {@link #binary} over merged axes (rank at least 1), the output contiguous. */
    private static void walk(Row rows, Binary function, float[] lhs, int lhsOffset, int[] lhsStrides,
                             float[] rhs, int rhsOffset, int[] rhsStrides, float[] out, int outOffset, int[] shape) {
        int rank = shape.length;
        int inner = shape[rank - 1];
        int lhsInner = lhsStrides[rank - 1];
        int rhsInner = rhsStrides[rank - 1];
        StridedRows at = new StridedRows(shape, lhsStrides, lhsOffset, rhsStrides, rhsOffset);
        int outPos = outOffset;
        do {
            rows.row(function, lhs, at.first, lhsInner, rhs, at.second, rhsInner, out, outPos, inner);
            outPos += inner;
        } while (at.next());
    }

    /** {@link Strided#maskedFill}: the binary walk with a row that selects. */
    static void maskedFill(float[] x, int xOffset, int[] xStrides, float[] mask, int maskOffset,
                           int[] maskStrides, float value, float[] out, int outOffset, int[] shape) {
        binary((unused, lhs, l, ls, rhs, r, rs, o, at, n) -> {
            for (int i = 0; i < n; i++) {
                float m = rhs[r + i * rs];
                o[at + i] = m > 0 || m < 0 ? value : lhs[l + i * ls];
            }
        }, null, x, xOffset, xStrides, mask, maskOffset, maskStrides, out, outOffset, shape);
    }

    /** The scalar {@link Row}, and the tail of {@link VectorBinary#row}. */
    static void scalarRow(Binary function, float[] lhs, int l, int ls, float[] rhs, int r, int rs,
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
}
