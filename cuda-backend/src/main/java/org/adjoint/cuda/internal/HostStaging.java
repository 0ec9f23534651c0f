package org.adjoint.cuda.internal;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * Pinned host memory through which every transfer goes, in two halves used in turn: while the
 * DMA engine copies one half, the CPU fills (or empties) the other. Copies from pageable Java
 * arrays would make the driver stage them itself, synchronously; pinned halves let a copy run
 * on the stream, behind the kernels queued before it. Callers hold the device's lock.
 *
 * <p>Small uploads (a scalar, a row of indices, up to {@value #SLOT_FLOATS} floats) take the
 * next of {@value #SLOTS} slots of their own instead, in turn: a half is free only once the copy
 * that last read it ran, behind every kernel queued before that copy, so a scalar uploaded
 * through a half would hold the host until the device caught up, once per upload. A slot is
 * waited for only when the device lags {@value #SLOTS} small uploads behind.
 */
final class HostStaging {

    /** Floats per half: 4 MiB, enough for the copy engine to run at full speed. */
    static final int CHUNK_FLOATS = 1 << 20;
    private static final long CHUNK_BYTES = (long) CHUNK_FLOATS * Float.BYTES;

    /** Floats per slot of a small upload: 64 KiB (a batch of 64 × 256 token indices fits). */
    static final int SLOT_FLOATS = 1 << 14;
    /** Slots of small uploads, used in turn: 2 MiB pinned in all. */
    static final int SLOTS = 32;
    private static final long SLOT_BYTES = (long) SLOT_FLOATS * Float.BYTES;

    private final CUstream stream;
    private final Pointer pinned;
    private final FloatBuffer floats;
    private final CUevent[] halfFree = {new CUevent(), new CUevent()};
    private final Pointer slots;
    private final FloatBuffer slotFloats;
    private final LongBuffer slotLongs;
    private final CUevent[] slotFree = new CUevent[SLOTS];
    private int nextSlot;
    /** What {@link #free} gives back: the events made so far (halves' first), and each pinned block. */
    private int eventsCreated;
    private boolean pinnedHalves;
    private boolean pinnedSlots;

    HostStaging(CUstream stream) {
        this.stream = stream;
        this.pinned = new Pointer();
        this.slots = new Pointer();
        try {
            Driver.check(cuMemAllocHost(pinned, 2 * CHUNK_BYTES), "cuMemAllocHost(" + 2 * CHUNK_BYTES + " bytes)");
            pinnedHalves = true;
            for (CUevent event : halfFree) {
                Driver.check(cuEventCreate(event, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
                eventsCreated++;
            }
            Driver.check(cuMemAllocHost(slots, SLOTS * SLOT_BYTES), "cuMemAllocHost(" + SLOTS * SLOT_BYTES + " bytes)");
            pinnedSlots = true;
            for (int i = 0; i < SLOTS; i++) {
                slotFree[i] = new CUevent();
                Driver.check(cuEventCreate(slotFree[i], CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
                eventsCreated++;
            }
        } catch (RuntimeException | Error e) {
            free(e);
            throw e;
        }
        this.floats = pinned.getByteBuffer(0, 2 * CHUNK_BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        this.slotFloats = slots.getByteBuffer(0, SLOTS * SLOT_BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        this.slotLongs = slots.getByteBuffer(0, SLOTS * SLOT_BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    /**
     * Gives back the pinned memory and the events, for a device that failed to open: nothing
     * may use this staging afterwards. A failure is added to {@code failure}, suppressed, so
     * that the reason the device failed stays the one thrown.
     *
     * @param failure why the device is being torn down
     */
    void free(Throwable failure) {
        for (int i = eventsCreated - 1; i >= 0; i--) {
            CUevent event = i < halfFree.length ? halfFree[i] : slotFree[i - halfFree.length];
            Driver.release(cuEventDestroy(event), "cuEventDestroy", failure);
        }
        eventsCreated = 0;
        if (pinnedSlots) {
            pinnedSlots = false;
            Driver.release(cuMemFreeHost(slots), "cuMemFreeHost", failure);
        }
        if (pinnedHalves) {
            pinnedHalves = false;
            Driver.release(cuMemFreeHost(pinned), "cuMemFreeHost", failure);
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
        if (data.length <= SLOT_FLOATS) {
            uploadSmall(data, address);
            return;
        }
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
     * Copies a small table of 64-bit values ({@code 2 * data.length <= }{@value #SLOT_FLOATS}) to
     * {@code address} through the next slot, as a small float upload goes.
     *
     * @param data    the values
     * @param address destination, at least {@code data.length} longs
     */
    void upload(long[] data, long address) {
        if (2L * data.length > SLOT_FLOATS) {
            throw new IllegalArgumentException("staging: a table of " + data.length + " longs exceeds a slot of "
                    + SLOT_FLOATS / 2);
        }
        if (data.length == 0) {
            return;
        }
        int slot = takeSlot();
        slotLongs.put(slot * (SLOT_FLOATS / 2), data, 0, data.length);
        copyFromSlot(slot, address, (long) data.length * Long.BYTES);
    }

    private int takeSlot() {
        int slot = nextSlot;
        nextSlot = (slot + 1) % SLOTS;
        // The copy that read this slot SLOTS small uploads ago must be done.
        Driver.check(cuEventSynchronize(slotFree[slot]), "cuEventSynchronize");
        return slot;
    }

    private void copyFromSlot(int slot, long address, long bytes) {
        Driver.check(cuMemcpyHtoDAsync(Driver.pointer(address), slots.withByteOffset(slot * SLOT_BYTES), bytes, stream),
                "cuMemcpyHtoDAsync");
        Driver.check(cuEventRecord(slotFree[slot], stream), "cuEventRecord");
    }

    private void uploadSmall(float[] data, long address) {
        if (data.length == 0) {
            return;
        }
        int slot = takeSlot();
        slotFloats.put(slot * SLOT_FLOATS, data, 0, data.length);
        copyFromSlot(slot, address, (long) data.length * Float.BYTES);
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
