package org.adjoint.cuda;

/**
 * A snapshot of the CUDA backend's device memory, as its caching allocator sees it. Sizes are
 * those of the blocks handed out, which are requests rounded up to a size class (see
 * {@link CudaBackend}); memory that cuBLAS, the kernels' module and the CUDA context take for
 * themselves is not counted.
 *
 * @param bytesInUse        bytes in blocks that buffers hold now
 * @param peakBytesInUse    the most {@code bytesInUse} has been since start-up or the last
 *                          {@link CudaBackend#resetPeakMemoryStats()}
 * @param bytesCached       bytes in freed blocks kept for reuse (still allocated on the device)
 * @param allocations       buffers allocated so far, from the cache or the device
 * @param deviceAllocations blocks allocated from the device so far ({@code cuMemAlloc} calls that succeeded)
 * @param deviceFrees       blocks given back to the device so far ({@code cuMemFree} calls)
 */
public record DeviceMemoryStats(long bytesInUse, long peakBytesInUse, long bytesCached,
                                long allocations, long deviceAllocations, long deviceFrees) {

    /**
     * Bytes held on the device by the allocator: in use plus cached.
     *
     * @return {@code bytesInUse + bytesCached}
     */
    public long reservedBytes() {
        return bytesInUse + bytesCached;
    }
}
