package org.adjoint.cuda.internal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.adjoint.cuda.DeviceMemoryStats;

/**
 * Device memory with a cache of freed blocks, so that a training step, which asks for the same
 * sizes every time, stops calling {@code cuMemAlloc} (slow, and synchronising) after its first
 * pass, and so that a buffer that the tape frees is reusable at once.
 *
 * <p>Requests are rounded up to a size class ({@link #blockSize}); a freed block waits in the
 * cache for a request of the same class. All work runs on one CUDA stream, so handing a block
 * to a new owner while kernels of the old one are still queued is safe: the new owner's work
 * is queued behind them. When the device is out of memory, the allocator lets unreachable
 * buffers come back ({@code reclaim}), gives every cached block back to the device and
 * retries once; if that fails too it throws an {@link IllegalStateException} that names the
 * size asked and the bytes in use and cached. Thread-safe.
 */
public final class CachingAllocator {

    /** Requests up to this many bytes are rounded to {@link #SMALL_GRANULE}. */
    public static final long SMALL_LIMIT = 1L << 20;
    /** Granule of small blocks, bytes. */
    public static final long SMALL_GRANULE = 512;

    private final RawAllocator raw;
    private final Runnable reclaim;
    private final Map<Long, ArrayDeque<Long>> cached = new HashMap<>();
    private final Map<Long, Long> inUse = new HashMap<>();
    private final ConcurrentLinkedQueue<Long> deferredFrees = new ConcurrentLinkedQueue<>();
    private long bytesInUse;
    private long peakBytesInUse;
    private long bytesCached;
    private long allocations;
    private long deviceAllocations;
    private long deviceFrees;

    /**
     * Creates an allocator with nothing to reclaim on out-of-memory.
     *
     * @param raw the device memory underneath
     */
    public CachingAllocator(RawAllocator raw) {
        this(raw, () -> { });
    }

    /**
     * Creates an allocator.
     *
     * @param raw     the device memory underneath
     * @param reclaim run once when the device is out of memory, before the cache is emptied:
     *                it may hand blocks back through {@link #freeDeferred} (the CUDA backend
     *                runs the garbage collector, whose cleaners free unreachable buffers)
     */
    public CachingAllocator(RawAllocator raw, Runnable reclaim) {
        this.raw = raw;
        this.reclaim = reclaim;
    }

    /**
     * The size class of a request: a multiple of 512 bytes up to 1 MiB; above, four classes
     * per power of two (1.25, 1.5, 1.75, 2, 2.5, ... MiB), which wastes less than a
     * quarter of any block while keeping the number of classes, and so of cached blocks that
     * cannot serve each other, small.
     *
     * @param bytes requested size, more than 0
     * @return the block size
     */
    public static long blockSize(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("cuda allocator: cannot size a block for " + bytes + " bytes");
        }
        long granule = bytes <= SMALL_LIMIT ? SMALL_GRANULE : Long.highestOneBit(bytes - 1) >>> 2;
        return Math.multiplyExact(Math.ceilDiv(bytes, granule), granule);
    }

    /**
     * A block of at least {@code bytes}, from the cache when one of its class is there.
     *
     * @param bytes requested size, more than 0
     * @return the block's address
     * @throws IllegalStateException when the device is out of memory even after the cache was emptied
     */
    public synchronized long allocate(long bytes) {
        return take(bytes, true);
    }

    /**
     * The cache, then the device, and nothing more: no reclaiming, no emptying of the cache, no
     * retry ({@link #allocate} does those, and they cost a collection and a wait). For memory
     * that the caller can do without, such as a convolution's workspace.
     *
     * @param bytes requested size, more than 0
     * @return the block's address, or 0 when neither the cache nor the device has room
     */
    public synchronized long tryAllocate(long bytes) {
        return take(bytes, false);
    }

    private long take(long bytes, boolean required) {
        long size = blockSize(bytes);
        drainDeferredFrees();
        long address = takeCached(size);
        if (address == 0) {
            address = raw.allocate(size);
            if (address == 0) {
                if (!required) {
                    return 0;
                }
                address = allocateAfterReclaiming(bytes, size);
            } else {
                deviceAllocations++;
            }
        }
        inUse.put(address, size);
        bytesInUse += size;
        peakBytesInUse = Math.max(peakBytesInUse, bytesInUse);
        allocations++;
        return address;
    }

    private long allocateAfterReclaiming(long bytes, long size) {
        reclaim.run();
        drainDeferredFrees();
        long address = takeCached(size);
        if (address != 0) {
            return address;
        }
        long cachedBefore = bytesCached;
        emptyCache();
        address = raw.allocate(size);
        if (address == 0) {
            throw new IllegalStateException("cuda: out of device memory allocating " + bytes + " bytes (a block of "
                    + size + "): " + bytesInUse + " bytes in use by buffers, " + cachedBefore
                    + " bytes were cached and have been freed before one retry, " + bytesCached + " bytes cached now");
        }
        deviceAllocations++;
        return address;
    }

    private long takeCached(long size) {
        ArrayDeque<Long> blocks = cached.get(size);
        Long address = blocks == null ? null : blocks.pollLast();
        if (address == null) {
            return 0;
        }
        bytesCached -= size;
        return address;
    }

    /**
     * Returns a block to the cache at once.
     *
     * @param address a block that {@link #allocate} returned and that is not yet freed
     * @throws IllegalArgumentException when it is not in use
     */
    public synchronized void free(long address) {
        drainDeferredFrees();
        freeLocked(address);
    }

    /**
     * Returns a block to the cache at the allocator's next call, without waiting for its lock
     * (for cleaners running on another thread).
     *
     * @param address a block that {@link #allocate} returned and that is not yet freed
     */
    public void freeDeferred(long address) {
        deferredFrees.add(address);
    }

    private void drainDeferredFrees() {
        for (Long address = deferredFrees.poll(); address != null; address = deferredFrees.poll()) {
            freeLocked(address);
        }
    }

    private void freeLocked(long address) {
        Long size = inUse.remove(address);
        if (size == null) {
            throw new IllegalArgumentException("cuda allocator: block 0x" + Long.toHexString(address)
                    + " is not in use (freed twice, or not allocated here)");
        }
        bytesInUse -= size;
        cached.computeIfAbsent(size, s -> new ArrayDeque<>()).addLast(address);
        bytesCached += size;
    }

    /** Gives every cached block back to the device; blocks in use stay. */
    public synchronized void emptyCache() {
        drainDeferredFrees();
        if (bytesCached == 0) {
            return;
        }
        raw.synchronize();
        // Each block leaves the cache before it is freed: a free that fails part-way must not
        // leave freed blocks in the cache, to be handed out again or freed twice.
        for (var entry : cached.entrySet()) {
            ArrayDeque<Long> blocks = entry.getValue();
            for (Long address = blocks.pollLast(); address != null; address = blocks.pollLast()) {
                bytesCached -= entry.getKey();
                raw.free(address);
                deviceFrees++;
            }
        }
        cached.clear();
        // A stream-ordered free takes effect in stream order: wait for it, so that the memory
        // is the device's again (and its pool can trim) when this returns.
        raw.synchronize();
    }

    /** Starts {@link DeviceMemoryStats#peakBytesInUse()} again from the bytes in use now. */
    public synchronized void resetPeak() {
        drainDeferredFrees();
        peakBytesInUse = bytesInUse;
    }

    /**
     * The allocator's counters now.
     *
     * @return a snapshot
     */
    public synchronized DeviceMemoryStats stats() {
        drainDeferredFrees();
        return new DeviceMemoryStats(bytesInUse, peakBytesInUse, bytesCached, allocations, deviceAllocations,
                deviceFrees);
    }
}
