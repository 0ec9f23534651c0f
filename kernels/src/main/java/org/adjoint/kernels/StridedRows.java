package org.adjoint.kernels;

/**
 * The rows of a strided index space in row-major order: an index over every axis but the
 * last, and where the current row starts in each of two operands. The loops of
 * {@link Strided} run one row kernel per row and call {@link #next()} between rows.
 */
final class StridedRows {

    private final int[] shape;
    private final int[] firstStrides;
    private final int[] secondStrides;
    private final int[] index;
    /** Where the current row starts in the first operand. */
    int first;
    /** Where the current row starts in the second operand. */
    int second;

    /**
     * Starts at row 0.
     *
     * @param shape         iteration shape, rank at least 1, no zero dimension
     * @param firstStrides  the first operand's stride per axis
     * @param firstOffset   its first element
     * @param secondStrides the second operand's stride per axis
     * @param secondOffset  its first element
     */
    StridedRows(int[] shape, int[] firstStrides, int firstOffset, int[] secondStrides, int secondOffset) {
        this.shape = shape;
        this.firstStrides = firstStrides;
        this.secondStrides = secondStrides;
        this.index = new int[shape.length];
        this.first = firstOffset;
        this.second = secondOffset;
    }

    /** Over one operand: {@link #second} stays put. */
    StridedRows(int[] shape, int[] strides, int offset) {
        this(shape, strides, offset, new int[shape.length], 0);
    }

    /**
     * Steps to the next row: the last of the outer axes counts up, carrying into the ones before.
     *
     * @return false when the rows are done (the positions are then back at row 0)
     */
    boolean next() {
        for (int axis = shape.length - 2; axis >= 0; axis--) {
            index[axis]++;
            first += firstStrides[axis];
            second += secondStrides[axis];
            if (index[axis] < shape[axis]) {
                return true;
            }
            first -= firstStrides[axis] * shape[axis];
            second -= secondStrides[axis] * shape[axis];
            index[axis] = 0;
        }
        return false;
    }
}
