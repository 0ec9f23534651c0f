package org.adjoint.cuda.internal;

import org.adjoint.kernels.cuda.CudaKernelSource;

/**
 * Grid sizes for the kernels' 1-D launches. Element-wise kernels loop grid-stride, so their
 * grid is capped: {@value #BLOCKS_PER_SM} blocks per multiprocessor keep every SM busy,
 * and more blocks only add scheduling work.
 */
public final class LaunchGrid {

    /** Threads per block of every kernel. */
    public static final int THREADS = CudaKernelSource.THREADS_PER_BLOCK;
    /** Grid-stride kernels get at most this many blocks per multiprocessor. */
    public static final int BLOCKS_PER_SM = 32;
    /** Largest grid of a grid-stride kernel whatever the device (the portable {@code gridDim.x} of old devices). */
    public static final int MAX_BLOCKS = 65_535;

    private final int cap;

    /**
     * Grids for a device.
     *
     * @param multiprocessors the device's SM count
     */
    public LaunchGrid(int multiprocessors) {
        this.cap = (int) Math.min(MAX_BLOCKS, Math.max(1L, (long) BLOCKS_PER_SM * multiprocessors));
    }

    /**
     * Blocks for a grid-stride kernel over {@code work} items: one item per thread, capped.
     *
     * @param work item count, at least 1
     * @return blocks, at least 1
     */
    public int gridStride(long work) {
        return (int) Math.max(1, Math.min(cap, Math.ceilDiv(work, THREADS)));
    }

    /**
     * Blocks for {@code softmax}: rows ({@code inner == 1}) long enough are shared by a block,
     * one block per row and grid-stride over rows; shorter lanes get a thread each.
     *
     * @param outer  product of the axes before the softmax axis
     * @param length the axis length
     * @param inner  product of the axes after it
     * @return blocks, at least 1
     */
    public int softmax(int outer, int length, int inner) {
        if (inner == 1 && length >= CudaKernelSource.SOFTMAX_ROW_BLOCK_MIN_LENGTH) {
            return rows(outer);
        }
        return gridStride((long) outer * inner);
    }

    /**
     * Blocks for a kernel that gives each row a block, grid-stride over rows.
     *
     * @param rows row count
     * @return blocks, at least 1
     */
    public int rows(int rows) {
        return Math.max(1, Math.min(cap, rows));
    }

    /**
     * The cap of {@link #gridStride}.
     *
     * @return the most blocks a grid-stride launch gets
     */
    public int cap() {
        return cap;
    }
}
