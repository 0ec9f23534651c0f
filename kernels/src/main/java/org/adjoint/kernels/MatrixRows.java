package org.adjoint.kernels;

/**
 * Where the rows of a batch of matrices lie in an array, for kernels that read or write views
 * in place (attention reading the heads of {@code [batch, time, heads, width]} as
 * {@code [batch, heads, time, width]}): element {@code c} of row {@code r} of batch item
 * {@code (i0, i1, ...)} is at {@code offset + Σ ia·batchStrides[a] + r·rowStride + c}. Each row
 * is contiguous.
 *
 * @param data         the array
 * @param offset       where item 0's row 0 starts
 * @param batchStrides one stride per batch axis (of the batch shape the kernel is given)
 * @param rowStride    elements between consecutive rows of one item
 */
public record MatrixRows(float[] data, int offset, int[] batchStrides, int rowStride) {

    /**
     * Rows packed one after another and items one after another: {@code [batch, rows, width]}
     * from {@code offset}.
     *
     * @param data   the array
     * @param offset where the first row starts
     * @param rows   rows per item
     * @param width  elements per row
     * @return the layout, with one batch axis
     */
    public static MatrixRows packed(float[] data, int offset, int rows, int width) {
        return new MatrixRows(data, offset, new int[] {rows * width}, width);
    }

    /**
     * Where each batch item's row 0 starts, items in row-major order of {@code batchShape}.
     *
     * @param batchShape the batch axes, as many as {@link #batchStrides}
     * @param batch      the product of {@code batchShape}
     * @return one offset per item
     */
    int[] starts(int[] batchShape, int batch) {
        int[] starts = new int[batch];
        int rank = batchShape.length;
        int[] index = new int[rank];
        int at = offset;
        for (int b = 0; b < batch; b++) {
            starts[b] = at;
            for (int a = rank - 1; a >= 0; a--) {
                at += batchStrides[a];
                if (++index[a] < batchShape[a]) {
                    break;
                }
                at -= batchStrides[a] * batchShape[a];
                index[a] = 0;
            }
        }
        return starts;
    }
}
