package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

/** {@code Tensor.to}: copies between backends, differentiable, and the error for mixed operands. */
class TransferTest {

    /** A second CPU backend instance stands in for a device: tensors cannot mix across them. */
    private static final CpuBackend OTHER = new CpuBackend();

    @Test
    void toCopiesValuesAndReturnsTheSameTensorOnItsOwnBackend() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor moved = x.to(OTHER);
        assertArrayEquals(x.toFloatArray(), moved.toFloatArray());
        assertArrayEquals(new int[] {2, 3}, moved.shape());
        assertSame(x, x.to(Backends.current()));
        assertSame(x, x.to("cpu"));
    }

    @Test
    void gradientsFlowBackToTheSourceBackend() {
        Tensor x = Tensor.of(new float[] {1, -2, 3}).requiresGrad(true);
        Tensor loss = x.to(OTHER).mul(x.to(OTHER)).sum().to(Backends.current());
        loss.backward();
        assertArrayEquals(new float[] {2, -4, 6}, x.grad().toFloatArray());
        Tensor tangent = Autodiff.jvp(v -> v.to(OTHER).tanh(), Tensor.of(new float[] {0f, 1f}),
                Tensor.of(new float[] {1f, 1f})).tangent();
        assertEquals(1f, tangent.toFloatArray()[0], 1e-6f);
        assertEquals(1 - (float) Math.pow(Math.tanh(1), 2), tangent.toFloatArray()[1], 1e-6f);
    }

    @Test
    void aModuleOnAnotherBackendLoadsStateFromThisOne() {
        org.adjoint.backend.Backend before = Backends.current();
        org.adjoint.nn.Linear layer;
        try {
            Backends.use(OTHER);
            layer = new org.adjoint.nn.Linear(2, 3, 5);
        } finally {
            Backends.use(before);
        }
        org.adjoint.nn.Linear source = new org.adjoint.nn.Linear(2, 3, 6);
        layer.loadStateDict(source.stateDict());
        assertArrayEquals(source.weight().toFloatArray(), layer.weight().toFloatArray());
        assertEquals(OTHER.name(), layer.weight().backendName());
        var error = assertThrows(IllegalArgumentException.class, () -> layer.apply(Tensor.ones(4, 2)));
        assertEquals("linear: operands live on different backends (two instances of cpu, each with its own buffers)", error.getMessage());
    }

    @Test
    void mixingBackendsNamesBoth() {
        Tensor x = Tensor.ones(3);
        var error = assertThrows(IllegalArgumentException.class, () -> x.add(x.to(OTHER)));
        assertEquals("add: operands live on different backends (two instances of cpu, each with its own buffers)", error.getMessage());
    }

    @Test
    void aMissingBackendIsRefusedWithTheArtifactToAdd() {
        var unknown = assertThrows(IllegalStateException.class, () -> Tensor.ones(2).to("tpu"));
        assertTrue(unknown.getMessage().startsWith("backend 'tpu' is not on the class path"), unknown.getMessage());
    }
}
