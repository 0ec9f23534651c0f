package org.adjoint.cuda.internal;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocAsync;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeAsync;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import jcuda.driver.CUresult;

/**
 * The device memory under a {@link CudaDevice}'s caching allocator, used under the device's
 * lock with its context current. Where the driver has stream-ordered pools,
 * blocks come from the device's default pool on our stream ({@code cuMemAllocAsync}): a
 * miss of the cache then costs about a microsecond and never waits for the device, where
 * {@code cuMemAlloc} is a heavyweight call. Misses are not rare: the outputs that a step
 * hands to its caller (layer outputs, the loss) come back to the cache only when the
 * garbage collector finds them, so a step takes some fresh blocks until it does (an H100
 * profile of the small MLP step spent about 15 % of its host time in {@code cuMemAlloc}).
 */
final class DeviceMemory implements RawAllocator {

    private final Driver.Stream stream;
    private final boolean streamOrdered;

    /**
     * @param stream        the device's stream
     * @param streamOrdered whether blocks come from the stream-ordered pool ({@code cuMemAllocAsync})
     */
    DeviceMemory(Driver.Stream stream, boolean streamOrdered) {
        this.stream = stream;
        this.streamOrdered = streamOrdered;
    }

    @Override
    public long allocate(long bytes) {
        Driver.Allocation pointer = new Driver.Allocation();
        int result = streamOrdered ? cuMemAllocAsync(pointer, bytes, stream) : cuMemAlloc(pointer, bytes);
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            return 0;
        }
        Driver.check(result, (streamOrdered ? "cuMemAllocAsync(" : "cuMemAlloc(") + bytes + " bytes)");
        return pointer.address();
    }

    @Override
    public void free(long address) {
        if (streamOrdered) {
            Driver.check(cuMemFreeAsync(Driver.pointer(address), stream), "cuMemFreeAsync");
        } else {
            Driver.check(cuMemFree(Driver.pointer(address)), "cuMemFree");
        }
    }

    @Override
    public void synchronize() {
        Driver.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }
}
