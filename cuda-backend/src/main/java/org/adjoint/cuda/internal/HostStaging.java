package org.adjoint.cuda.internal;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * Pinned host memory through which every transfer goes, in two halves used in turn: while the
 * DMA engine copies one half, the CPU fills (or empties) the other. Copies from pageable Java
 * arrays would make the driver stage them itself, synchronously; pinned halves let a copy run
 * on the stream, behind the kernels queued before it. Callers hold the device's lock.
 */
final class HostStaging {

    /** Floats per half: 4 MiB, enough for the copy engine to run at full speed. */
    static final int CHUNK_FLOATS = 1 << 20;
    private static final long CHUNK_BYTES = (long) CHUNK_FLOATS * Float.BYTES;

    private final CUstream stream;
    private final Pointer pinned;
    private final FloatBuffer floats;
    private final CUevent[] halfFree = {new CUevent(), new CUevent()};

    HostStaging(CUstream stream) {
        this.stream = stream;
        this.pinned = new Pointer();
        Driver.check(cuMemAllocHost(pinned, 2 * CHUNK_BYTES), "cuMemAllocHost(" + 2 * CHUNK_BYTES + " bytes)");
        this.floats = pinned.getByteBuffer(0, 2 * CHUNK_BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (CUevent event : halfFree) {
            Driver.check(cuEventCreate(event, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        }
    }

    /**
     * Copies {@code data} to {@code address}; returns once the data is in pinned memory (the
     * last copies may still be queued).
     *
     * @param data    source
     * @param address destination, at least {@code data.length} floats
     */
    void upload(float[] data, long address) {
        for (int offset = 0, chunk = 0; offset < data.length; offset += CHUNK_FLOATS, chunk++) {
            int half = chunk & 1;
            int count = Math.min(CHUNK_FLOATS, data.length - offset);
            // The copy that last read this half (of this or an earlier transfer) must be done.
            Driver.check(cuEventSynchronize(halfFree[half]), "cuEventSynchronize");
            floats.put(half * CHUNK_FLOATS, data, offset, count);
            Driver.check(cuMemcpyHtoDAsync(Driver.pointer(address + (long) offset * Float.BYTES),
                    pinned.withByteOffset(half * CHUNK_BYTES), (long) count * Float.BYTES, stream), "cuMemcpyHtoDAsync");
            Driver.check(cuEventRecord(halfFree[half], stream), "cuEventRecord");
        }
    }

    /**
     * Copies {@code count} floats from {@code address}, after all work queued before.
     *
     * @param address source
     * @param count   element count
     * @return the elements
     */
    float[] download(long address, int count) {
        float[] out = new float[count];
        int chunks = Math.ceilDiv(count, CHUNK_FLOATS);
        for (int chunk = 0; chunk < chunks; chunk++) {
            int half = chunk & 1;
            int offset = chunk * CHUNK_FLOATS;
            Driver.check(cuEventSynchronize(halfFree[half]), "cuEventSynchronize");
            Driver.check(cuMemcpyDtoHAsync(pinned.withByteOffset(half * CHUNK_BYTES),
                    Driver.pointer(address + (long) offset * Float.BYTES),
                    (long) Math.min(CHUNK_FLOATS, count - offset) * Float.BYTES, stream), "cuMemcpyDtoHAsync");
            Driver.check(cuEventRecord(halfFree[half], stream), "cuEventRecord");
            if (chunk > 0) {
                copyOut(chunk - 1, out);
            }
        }
        if (chunks > 0) {
            copyOut(chunks - 1, out);
        }
        return out;
    }

    private void copyOut(int chunk, float[] out) {
        int half = chunk & 1;
        int offset = chunk * CHUNK_FLOATS;
        // Errors of earlier kernels surface here, at the first wait after them.
        Driver.check(cuEventSynchronize(halfFree[half]), "cuEventSynchronize (waiting for the device)");
        floats.get(half * CHUNK_FLOATS, out, offset, Math.min(CHUNK_FLOATS, out.length - offset));
    }
}
