package org.adjoint.cuda.internal;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/** Small helpers over JCuda's driver API. */
final class Driver {

    private Driver() {
    }

    /**
     * Throws unless a driver call succeeded.
     *
     * @param result   its {@code CUresult}
     * @param function its name
     * @throws IllegalStateException naming the call and the result
     */
    static void check(int result, String function) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException("cuda: " + function + " failed: " + CUresult.stringFor(result));
        }
    }

    /**
     * For a release on a failure path: a failed call is added to {@code failure}, suppressed,
     * so that the failure being handled stays the one thrown.
     *
     * @param result   what the call returned
     * @param function its name, for the message
     * @param failure  the failure being handled
     */
    static void release(int result, String function, Throwable failure) {
        if (result != CUresult.CUDA_SUCCESS) {
            failure.addSuppressed(new IllegalStateException("cuda: " + function + " failed: "
                    + CUresult.stringFor(result)));
        }
    }

    /**
     * A JCuda device pointer to an address the allocator handed out. JCuda passes a pointer's
     * native value plus its byte offset, so an offset from null is the address itself.
     *
     * @param address a device address
     * @return the pointer
     */
    static CUdeviceptr pointer(long address) {
        return new CUdeviceptr().withByteOffset(address);
    }

    /** A stream whose handle can be read, for bindings that take it as a plain address. */
    static final class Stream extends CUstream {
        long address() {
            return getNativePointer();
        }
    }

    /** A device pointer whose value can be read after {@code cuMemAlloc} filled it in. */
    static final class Allocation extends CUdeviceptr {
        long address() {
            return getNativePointer() + getByteOffset();
        }
    }
}
