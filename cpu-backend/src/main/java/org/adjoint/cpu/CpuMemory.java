package org.adjoint.cpu;

import static org.adjoint.cpu.CpuBuffer.data;

import java.util.Locale;
import java.util.function.IntFunction;

import org.adjoint.DType;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.MemoryOps;

/**
 * The memory of a {@link CpuBackend}: its {@link BufferPool}, and buffers allocated, released,
 * uploaded and downloaded through it. A buffer that cannot be allocated fails with a
 * {@link CpuOutOfMemoryException} that gives the size asked and the memory in use.
 */
final class CpuMemory {

    private static final long MAX_HEAP_BYTES = Runtime.getRuntime().maxMemory();

    private final BufferPool pool = new BufferPool(BufferPool.defaultCapacityBytes());

    BufferPool pool() {
        return pool;
    }

    Buffer allocate(DType dtype, long count) {
        MemoryOps.requireSupported("cpu", "allocate", dtype);
        return allocate(count);
    }

    Buffer allocate(long size) {
        return allocate(size, pool::take);
    }

    Buffer allocateUninitialized(long size) {
        return allocate(size, pool::takeUninitialized);
    }

    private Buffer allocate(long size, IntFunction<float[]> take) {
        int length = checkLength(size);
        try {
            return new CpuBuffer(take.apply(length));
        } catch (OutOfMemoryError e) {
            return new CpuBuffer(retryAfterReleasingPool(length, take));
        }
    }

    void release(Buffer buffer) {
        pool.give(data(buffer));
    }

    Buffer upload(float[] data) {
        return new CpuBuffer(copy(data));
    }

    float[] download(Buffer buffer) {
        return copy(data(buffer));
    }

    private float[] copy(float[] data) {
        checkLength(data.length);
        try {
            return data.clone();
        } catch (OutOfMemoryError e) {
            return retryAfterReleasingPool(data.length, length -> data.clone());
        }
    }

    /** The length of a new buffer, refused at once when no heap could hold it (rather than after a full GC). */
    private int checkLength(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("cpu backend: cannot allocate " + size + " floats");
        }
        if (size > CpuBackend.MAX_ELEMENTS) {
            throw outOfMemory(size, "a CPU buffer holds at most " + CpuBackend.MAX_ELEMENTS
                    + " floats (Java arrays are int-indexed)", pool.pooledBytes(), null);
        }
        if (size * Float.BYTES > MAX_HEAP_BYTES) {
            throw outOfMemory(size, "more than the heap's maximum", pool.pooledBytes(), null);
        }
        return (int) size;
    }

    /**
     * The second try of an allocation that ran out of heap, after dropping the pool's cache:
     * arrays kept for reuse must not be what makes a new one fail.
     *
     * <p>Catching {@code OutOfMemoryError} is sound around one array allocation, and only
     * there: the allocation either happened or left nothing behind, nothing else was half
     * done, and the JVM throws only after a full collection failed to make room. A failure
     * anywhere wider (inside a kernel, across several allocations) could leave state that is
     * partly updated, and is left to propagate.
     */
    private float[] retryAfterReleasingPool(int length, IntFunction<float[]> allocation) {
        long released = pool.release();
        try {
            return allocation.apply(length);
        } catch (OutOfMemoryError e) {
            throw outOfMemory(length, released > 0 ? "the heap is full, even after the buffer pool released its cache"
                    : "the heap is full", released, e);
        }
    }

    private static CpuOutOfMemoryException outOfMemory(long elements, String reason, long pooled, Throwable cause) {
        Runtime runtime = Runtime.getRuntime();
        long used = runtime.totalMemory() - runtime.freeMemory();
        long bytes = elements > Long.MAX_VALUE / Float.BYTES ? Long.MAX_VALUE : elements * Float.BYTES;
        return new CpuOutOfMemoryException("cpu backend: cannot allocate " + elements + " floats (" + bytes(bytes)
                + "): " + reason + "; heap in use " + bytes(used) + " of at most " + bytes(MAX_HEAP_BYTES)
                + ", buffer pool caching " + bytes(pooled) + " (raise -Xmx, use smaller batches, or drop references "
                + "to tensors no longer needed)", bytes, used, MAX_HEAP_BYTES, pooled, cause);
    }

    private static String bytes(long bytes) {
        return bytes < 1 << 20 ? bytes + " bytes"
                : bytes + " bytes = " + String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
}
