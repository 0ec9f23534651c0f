package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.conformance.FusedAdamConformance;
import org.junit.jupiter.api.Test;

/** The CPU backend's fused Adam kernel against the composed update, bit for bit. */
class FusedAdamTest extends FusedAdamConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }

    @Test
    void buffersOfDifferentLengthsAreRefusedBeforeAnyParameterChanges() {
        CpuBackend cpu = new CpuBackend();
        Buffer[] params = {cpu.upload(new float[] {1, 2}), cpu.upload(new float[] {3, 4, 5})};
        Buffer[] grads = {cpu.upload(new float[] {1, 1}), cpu.upload(new float[] {1, 1})};
        Buffer[] m = {cpu.upload(new float[2]), cpu.upload(new float[3])};
        Buffer[] v = {cpu.upload(new float[2]), cpu.upload(new float[3])};
        var error = assertThrows(IllegalArgumentException.class,
                () -> cpu.adam(params, grads, m, v, 2, 0.9f, 0.999f, 1f, 1e-8f, 0.1f, 0f, 1f));
        assertEquals("cpu backend: adam needs buffers of one length, got 3, 2, 3, 3 (entry 1)", error.getMessage());
        assertArrayEquals(new float[] {1, 2}, cpu.download(params[0]), "entry 0 was not updated either");
        assertEquals("cpu backend: axpy needs buffers of one length, got 2, 3",
                assertThrows(IllegalArgumentException.class, () -> cpu.axpy(1f, grads[0], params[1])).getMessage());
    }
}
