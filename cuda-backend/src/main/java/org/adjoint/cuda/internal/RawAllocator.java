package org.adjoint.cuda.internal;

/**
 * Device memory without caching: {@code cuMemAlloc} and {@code cuMemFree} on a GPU, a fake
 * in tests. {@link CachingAllocator} sits on top of it.
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
     * Waits until queued device work can no longer touch memory that is about to be freed;
     * called once before a batch of {@link #free} calls.
     */
    default void synchronize() {
    }
}
