package org.adjoint.cuda.internal;

/**
 * Device memory without caching: {@code cuMemAllocAsync}/{@code cuMemFreeAsync} (or
 * {@code cuMemAlloc}/{@code cuMemFree}) on a GPU, a fake in tests. {@link CachingAllocator}
 * sits on top of it.
 */
public interface RawAllocator {

    /**
     * Allocates a block.
     *
     * @param bytes block size, more than 0
     * @return its address, or 0 when the device is out of memory
     * @throws IllegalStateException for any other failure
     */
    long allocate(long bytes);

    /**
     * Frees a block that {@link #allocate} returned.
     *
     * @param address the block
     */
    void free(long address);

    /**
     * Waits until queued device work is done: called once before a batch of {@link #free}
     * calls (so that no queued kernel still uses the memory) and once after it (so that
     * stream-ordered frees have taken effect).
     */
    default void synchronize() {
    }
}
