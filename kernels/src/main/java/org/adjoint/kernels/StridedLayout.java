package org.adjoint.kernels;

import java.util.Arrays;

/**
 * How the strided loops of {@link Strided} shape their work: axes merged wherever every
 * operand allows, and a shape's outer axis dealt to the kernel threads.
 */
final class StridedLayout {

    private StridedLayout() {
    }

    /** A walk over part of a shape: its outer axis narrowed to the run that starts at index {@code first}. */
    interface OuterRun {
        void walk(int first, int[] part);
    }

    /**
     * Runs {@code run} over runs of {@code shape}'s outer axis on the kernel threads (one run when
     * the shape is small), each walking its own part of the operands.
     */
    static void overOuterAxis(int[] shape, OuterRun run) {
        int unit = Strided.size(shape) / shape[0];
        Parallel.rows(shape[0], Math.max(1, ElementWise.MEMORY_GRAIN / unit), (first, end) -> {
            int[] part = shape.clone();
            part[0] = end - first;
            run.walk(first, part);
        });
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
            if (count > 0 && mergeable(strides, axis, newShape[rank - count], newStrides, rank - count)) {
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
        result[0] = Arrays.copyOfRange(newShape, rank - count, rank);
        for (int op = 0; op < strides.length; op++) {
            result[op + 1] = Arrays.copyOfRange(newStrides[op], rank - count, rank);
        }
        return result;
    }

    private static boolean mergeable(int[][] strides, int axis, int innerSize, int[][] newStrides, int inner) {
        // The output is contiguous, so its inner axis has stride 1 relative to the group: only
        // operands' strides need checking, each against its own inner stride.
        for (int op = 0; op < strides.length; op++) {
            if (strides[op][axis] != newStrides[op][inner] * innerSize) {
                return false;
            }
        }
        return true;
    }

    /** The strides of a contiguous (row-major) array of {@code shape}. */
    static int[] contiguous(int[] shape) {
        int[] strides = new int[shape.length];
        int stride = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = stride;
            stride *= shape[i];
        }
        return strides;
    }
}
