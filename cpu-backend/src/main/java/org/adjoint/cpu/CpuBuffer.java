package org.adjoint.cpu;

import org.adjoint.backend.Buffer;

/**
 * Heap storage of the CPU backend.
 *
 * @param data the elements
 */
public record CpuBuffer(float[] data) implements Buffer {

    @Override
    public long size() {
        return data.length;
    }

    /** The elements of a CPU buffer; a buffer of another backend is refused, naming its class. */
    static float[] data(Buffer buffer) {
        if (buffer instanceof CpuBuffer cpu) {
            return cpu.data();
        }
        throw new IllegalArgumentException("cpu backend: cannot use a buffer of another backend ("
                + buffer.getClass().getName() + ")");
    }
}
