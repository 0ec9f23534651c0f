package org.adjoint.kernels.cuda;

/**
 * The table a multi-tensor kernel of {@code adjoint.cu} reads ({@code fill_many},
 * {@code axpy_many}, {@code adam_many}, {@code squares_many}, {@code clip_many}): {@link CudaKernelSource#TABLE_WIDTH}
 * long longs per entry (element count, first chunk, four device pointers), entries in chunk
 * order. Empty buffers get no entry, since they have no chunk.
 *
 * @param values  the table, to copy to the device as it is
 * @param entries entry count
 * @param chunks  chunks of all entries together: the kernels' work, a block per chunk
 * @param chunk   elements per chunk
 */
public record TensorTable(long[] values, int entries, long chunks, long chunk) {

    /**
     * Lays out a table.
     *
     * @param chunk    elements per chunk, at least 1
     * @param counts   each buffer set's element count (its buffers all have that many)
     * @param pointers for each of those, one to four device addresses
     * @return the table
     * @throws IllegalArgumentException when the lengths disagree, a count is negative, or a set has no
     *                                  buffer or more than four
     */
    public static TensorTable of(long chunk, long[] counts, long[][] pointers) {
        if (chunk < 1 || counts.length != pointers.length) {
            throw new IllegalArgumentException("TensorTable: chunk " + chunk + ", " + counts.length + " counts for "
                    + pointers.length + " pointer sets");
        }
        int entries = 0;
        for (long count : counts) {
            entries += count > 0 ? 1 : 0;
        }
        int width = CudaKernelSource.TABLE_WIDTH;
        long[] values = new long[entries * width];
        long chunks = 0;
        int entry = 0;
        for (int k = 0; k < counts.length; k++) {
            if (pointers[k].length < 1 || pointers[k].length > width - 2) {
                throw new IllegalArgumentException("TensorTable: entry " + k + " has " + pointers[k].length
                        + " pointers, not 1 to " + (width - 2));
            }
            if (counts[k] < 0) {
                throw new IllegalArgumentException("TensorTable: entry " + k + " has " + counts[k] + " elements");
            }
            if (counts[k] == 0) {
                continue;
            }
            values[entry * width] = counts[k];
            values[entry * width + 1] = chunks;
            System.arraycopy(pointers[k], 0, values, entry * width + 2, pointers[k].length);
            chunks += Math.ceilDiv(counts[k], chunk);
            entry++;
        }
        return new TensorTable(values, entries, chunks, chunk);
    }
}
