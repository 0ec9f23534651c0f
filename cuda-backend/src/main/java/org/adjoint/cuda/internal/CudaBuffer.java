package org.adjoint.cuda.internal;

import java.lang.ref.Cleaner;

import org.adjoint.backend.Buffer;

/**
 * Device storage of the CUDA backend: a block of the caching allocator. The block returns to
 * the cache when the engine releases the buffer, or, for buffers it never releases (a
 * tensor's own storage), when the garbage collector finds the buffer unreachable.
 */
public final class CudaBuffer implements Buffer {

    private static final Cleaner CLEANER = Cleaner.create();

    private final long address;
    private final long size;
    private final Cleaner.Cleanable cleanable;

    private CudaBuffer(long address, long size, CachingAllocator allocator) {
        this.address = address;
        this.size = size;
        // The cleaning action must not reach the buffer, or the buffer would never become unreachable.
        this.cleanable = allocator == null ? null : CLEANER.register(this, new Free(allocator, address));
    }

    /**
     * A buffer of no elements, which owns no device memory.
     *
     * @return a new empty buffer
     */
    static CudaBuffer empty() {
        return new CudaBuffer(0, 0, null);
    }

    /**
     * Wraps a block of {@code allocator}, to be freed on {@link #release()} or when unreachable.
     *
     * @param allocator the allocator the block came from
     * @param address   the block
     * @param size      element count
     * @return the buffer
     */
    static CudaBuffer owning(CachingAllocator allocator, long address, long size) {
        return new CudaBuffer(address, size, allocator);
    }

    /** Hands a block back without taking the allocator's lock: cleaners run on their own thread. */
    private record Free(CachingAllocator allocator, long address) implements Runnable {
        @Override
        public void run() {
            allocator.freeDeferred(address);
        }
    }

    /**
     * The device address of the first element.
     *
     * @return the address (0 for an empty buffer)
     */
    public long address() {
        return address;
    }

    /**
     * The device address of an element.
     *
     * @param element index of the element
     * @return its address
     */
    public long address(long element) {
        return address + element * Float.BYTES;
    }

    @Override
    public long size() {
        return size;
    }

    /** Returns the block to the allocator's cache; later calls do nothing. */
    public void release() {
        if (cleanable != null) {
            cleanable.clean();
        }
    }

    @Override
    public String toString() {
        return "CudaBuffer[" + size + " floats at 0x" + Long.toHexString(address) + "]";
    }
}
