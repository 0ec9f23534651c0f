package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.conformance.ClippingConformance;
import org.adjoint.optim.GradientClipping;
import org.junit.jupiter.api.Test;

class CpuClippingTest extends ClippingConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }

    /**
     * The norm's per-gradient squares go back to the pool once summed: a second clipping of
     * gradients of the same sizes takes every large array from the pool (before, each step
     * left one array per large gradient to the garbage collector).
     */
    @Test
    void clippingAgainAllocatesNoNewLargeArray() {
        CpuBackend cpu = new CpuBackend();
        Backend previous = Backends.current();
        Backends.use(cpu);
        try {
            Tensor a = Tensor.randn(1, 128, 384).requiresGrad(true);
            Tensor b = Tensor.randn(2, 512, 128).requiresGrad(true);
            a.mul(a).sum().add(b.mul(3f).sum()).backward();
            List<Tensor> parameters = List.of(a, b);
            float first = GradientClipping.clipGradNorm(parameters, 1f);
            long misses = cpu.pool().misses();
            long hits = cpu.pool().hits();
            float second = GradientClipping.clipGradNorm(parameters, 1f);
            assertTrue(first > 1f, "the first norm, " + first + ", clips");
            assertEquals(1f, second, 1e-3f, "the clipped gradients' norm");
            assertEquals(misses, cpu.pool().misses(), "new arrays the second clipping needed");
            assertTrue(cpu.pool().hits() >= hits + 2, "arrays the second clipping reused");
        } finally {
            Backends.use(previous);
        }
    }
}
