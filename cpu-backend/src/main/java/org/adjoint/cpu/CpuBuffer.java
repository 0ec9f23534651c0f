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
}
