package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.adjoint.cuda.DeviceMemoryStats;
import org.junit.jupiter.api.Test;

class CachingAllocatorTest {

    private static final long MIB = 1L << 20;

    /** A device with a fixed capacity that hands out increasing addresses. */
    private static class FakeDevice implements RawAllocator {
        final long capacity;
        final Map<Long, Long> live = new HashMap<>();
        final List<Long> freed = new ArrayList<>();
        long nextAddress = 0x1000;
        long used;
        int allocateCalls;
        int synchronizations;

        FakeDevice(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long allocate(long bytes) {
            allocateCalls++;
            if (used + bytes > capacity) {
                return 0;
            }
            long address = nextAddress;
            nextAddress += bytes;
            live.put(address, bytes);
            used += bytes;
            return address;
        }

        @Override
        public void free(long address) {
            Long bytes = live.remove(address);
            assertTrue(bytes != null, "freed an address the device never gave: " + address);
            used -= bytes;
            freed.add(address);
        }

        @Override
        public void synchronize() {
            synchronizations++;
        }
    }

    @Test
    void sizeClasses() {
        assertEquals(512, CachingAllocator.blockSize(1));
        assertEquals(512, CachingAllocator.blockSize(512));
        assertEquals(1024, CachingAllocator.blockSize(513));
        assertEquals(MIB, CachingAllocator.blockSize(MIB - 1));
        assertEquals(MIB, CachingAllocator.blockSize(MIB));
        assertEquals(MIB + MIB / 4, CachingAllocator.blockSize(MIB + 1));
        assertEquals(2 * MIB, CachingAllocator.blockSize(2 * MIB));
        assertEquals(2 * MIB + MIB / 2, CachingAllocator.blockSize(2 * MIB + 1));
        assertEquals(7 * MIB, CachingAllocator.blockSize(6 * MIB + 5));
        assertEquals(1280 * MIB, CachingAllocator.blockSize(1024 * MIB + 1));
        assertThrows(IllegalArgumentException.class, () -> CachingAllocator.blockSize(0));
        for (long bytes = 1; bytes < (1L << 34); bytes = bytes * 3 + 7) {
            long block = CachingAllocator.blockSize(bytes);
            assertTrue(block >= bytes && block % 512 == 0, bytes + " -> " + block);
            if (bytes > MIB) {
                assertTrue(block - bytes < bytes / 4, "waste of " + bytes + " -> " + block);
            }
        }
    }

    @Test
    void freedBlocksAreReusedForTheSameClass() {
        FakeDevice device = new FakeDevice(1L << 30);
        CachingAllocator allocator = new CachingAllocator(device);
        long a = allocator.allocate(1000);
        long b = allocator.allocate(3 * MIB);
        allocator.free(a);
        assertEquals(a, allocator.allocate(700), "a request of the same class reuses the cached block");
        long c = allocator.allocate(1000);
        assertNotEquals(a, c, "a block in use is never handed out twice");
        allocator.free(b);
        long d = allocator.allocate(5 * MIB);
        assertNotEquals(b, d, "a cached block of another class is not reused");
        assertEquals(4, device.allocateCalls);

        DeviceMemoryStats stats = allocator.stats();
        assertEquals(1024 + 1024 + 5 * MIB, stats.bytesInUse());
        assertEquals(3 * MIB, stats.bytesCached());
        assertEquals(5, stats.allocations());
        assertEquals(4, stats.deviceAllocations());
        assertEquals(0, stats.deviceFrees());
        assertEquals(stats.bytesInUse() + stats.bytesCached(), stats.reservedBytes());
    }

    @Test
    void peakFollowsBytesInUseAndCanBeReset() {
        CachingAllocator allocator = new CachingAllocator(new FakeDevice(1L << 30));
        long a = allocator.allocate(2 * MIB);
        long b = allocator.allocate(2 * MIB);
        allocator.free(a);
        allocator.free(b);
        DeviceMemoryStats stats = allocator.stats();
        assertEquals(0, stats.bytesInUse());
        assertEquals(4 * MIB, stats.peakBytesInUse());
        assertEquals(4 * MIB, stats.bytesCached());
        long c = allocator.allocate(2 * MIB);
        allocator.resetPeak();
        assertEquals(2 * MIB, allocator.stats().peakBytesInUse());
        allocator.free(c);
        assertEquals(2 * MIB, allocator.stats().peakBytesInUse(), "freeing lowers the bytes in use, not the peak");
    }

    @Test
    void emptyCacheGivesCachedBlocksBackBetweenTwoSynchronizations() {
        FakeDevice device = new FakeDevice(1L << 30);
        CachingAllocator allocator = new CachingAllocator(device);
        long a = allocator.allocate(100);
        long b = allocator.allocate(4 * MIB);
        long kept = allocator.allocate(100);
        allocator.free(a);
        allocator.free(b);
        allocator.emptyCache();
        // Before the frees (queued kernels may still use the blocks) and after them (a
        // stream-ordered free takes effect in stream order).
        assertEquals(2, device.synchronizations);
        assertEquals(List.of(a, b), device.freed.stream().sorted().toList());
        DeviceMemoryStats stats = allocator.stats();
        assertEquals(0, stats.bytesCached());
        assertEquals(512, stats.bytesInUse());
        assertEquals(2, stats.deviceFrees());
        assertTrue(device.live.containsKey(kept));
        allocator.emptyCache();
        assertEquals(2, device.synchronizations, "nothing cached, nothing to wait for");
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetriesOnce() {
        FakeDevice device = new FakeDevice(8 * MIB);
        CachingAllocator allocator = new CachingAllocator(device);
        long a = allocator.allocate(4 * MIB);
        allocator.free(a);
        long b = allocator.allocate(6 * MIB);
        assertEquals(List.of(a), device.freed, "the cached 4 MiB block went back to make room");
        DeviceMemoryStats stats = allocator.stats();
        assertEquals(6 * MIB, stats.bytesInUse());
        assertEquals(0, stats.bytesCached());
        assertEquals(2, stats.deviceAllocations());
        assertEquals(1, stats.deviceFrees());
        assertTrue(device.live.containsKey(b));
    }

    @Test
    void outOfMemoryAfterTheRetryNamesTheSizeAndTheBytesInUseAndCached() {
        FakeDevice device = new FakeDevice(8 * MIB);
        CachingAllocator allocator = new CachingAllocator(device);
        allocator.allocate(5 * MIB);
        long small = allocator.allocate(1000);
        allocator.free(small);
        int callsBefore = device.allocateCalls;
        IllegalStateException error = assertThrows(IllegalStateException.class, () -> allocator.allocate(3 * MIB + 1));
        assertEquals(callsBefore + 2, device.allocateCalls, "one attempt and exactly one retry");
        assertEquals("cuda: out of device memory allocating 3145729 bytes (a block of 3670016): 5242880 bytes in use"
                + " by buffers, 1024 bytes were cached and have been freed before one retry, 0 bytes cached now",
                error.getMessage());
        DeviceMemoryStats stats = allocator.stats();
        assertEquals(5 * MIB, stats.bytesInUse());
        assertEquals(0, stats.bytesCached());
        assertEquals(2, stats.allocations(), "a failed request is not counted");
    }

    @Test
    void tryAllocateTakesOnlyTheCacheAndTheDeviceAndAnswersZeroWhereAllocateWouldReclaim() {
        FakeDevice device = new FakeDevice(8 * MIB);
        int[] reclaims = new int[1];
        CachingAllocator allocator = new CachingAllocator(device, () -> reclaims[0]++);
        allocator.allocate(5 * MIB);
        long small = allocator.allocate(1000);
        allocator.free(small);
        int callsBefore = device.allocateCalls;
        long cachedBefore = allocator.stats().bytesCached();
        assertEquals(0, allocator.tryAllocate(3 * MIB + 1));
        assertEquals(callsBefore + 1, device.allocateCalls, "one attempt, no retry");
        assertEquals(0, reclaims[0], "no collection");
        DeviceMemoryStats stats = allocator.stats();
        assertEquals(5 * MIB, stats.bytesInUse());
        assertEquals(cachedBefore, stats.bytesCached(), "the cache is left as it was");
        assertEquals(2, stats.allocations(), "a failed request is not counted");
        long cached = allocator.tryAllocate(1000);
        assertTrue(cached != 0, "a cached block serves");
        allocator.free(cached);
        long fits = allocator.tryAllocate(2 * MIB);
        assertTrue(fits != 0);
        assertEquals(7 * MIB, allocator.stats().bytesInUse());
        allocator.free(fits);
    }

    @Test
    void reclaimRunsBeforeTheCacheIsEmptiedAndItsFreesAreUsed() {
        FakeDevice device = new FakeDevice(8 * MIB);
        List<Long> unreachable = new ArrayList<>();
        CachingAllocator[] holder = new CachingAllocator[1];
        int[] reclaims = {0};
        CachingAllocator allocator = new CachingAllocator(device, () -> {
            reclaims[0]++;
            unreachable.forEach(holder[0]::freeDeferred);
            unreachable.clear();
        });
        holder[0] = allocator;
        long first = allocator.allocate(6 * MIB);
        unreachable.add(first);
        long again = allocator.allocate(6 * MIB);
        assertEquals(1, reclaims[0]);
        assertEquals(first, again, "the block that reclaim freed serves the request without going back to the device");
        assertEquals(1, allocator.stats().deviceAllocations());
        assertEquals(0, device.freed.size());
    }

    @Test
    void deferredFreesArriveAtTheNextCall() {
        CachingAllocator allocator = new CachingAllocator(new FakeDevice(1L << 30));
        long a = allocator.allocate(2048);
        allocator.freeDeferred(a);
        DeviceMemoryStats stats = allocator.stats();
        assertEquals(0, stats.bytesInUse());
        assertEquals(2048, stats.bytesCached());
        assertEquals(a, allocator.allocate(2048));
    }

    @Test
    void freeingABlockNotInUseIsAnError() {
        CachingAllocator allocator = new CachingAllocator(new FakeDevice(1L << 30));
        long a = allocator.allocate(10);
        allocator.free(a);
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> allocator.free(a));
        assertTrue(twice.getMessage().contains("0x" + Long.toHexString(a) + " is not in use"), twice.getMessage());
        assertThrows(IllegalArgumentException.class, () -> allocator.free(12345));
    }

    @Test
    void aFreeThatFailsPartWayLeavesNoFreedBlockInTheCache() {
        FakeDevice device = new FakeDevice(1L << 30) {
            @Override
            public void free(long address) {
                if (freed.size() == 1) {
                    throw new IllegalStateException("cuMemFree failed");
                }
                super.free(address);
            }
        };
        CachingAllocator allocator = new CachingAllocator(device);
        long a = allocator.allocate(MIB);
        long b = allocator.allocate(MIB);
        long c = allocator.allocate(MIB);
        allocator.free(a);
        allocator.free(b);
        allocator.free(c);
        assertThrows(IllegalStateException.class, allocator::emptyCache);
        // One block went back to the device before the failure: it must not be handed out again.
        long freedBlock = device.freed.getFirst();
        for (int i = 0; i < 3; i++) {
            assertNotEquals(freedBlock, allocator.allocate(MIB));
        }
    }
}
