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
     * The norm's sums of squares are taken without arrays of the squares
     * ({@link CpuBackend#sumsOfSquares}) and the clipping scales in place: a clipping asks the
     * pool for no large array (before, one a large gradient, first left to the garbage
     * collector, then handed back).
     */
    @Test
    void clippingTakesNoLargeArray() {
        CpuBackend cpu = new CpuBackend();
        Backend previous = Backends.current();
        Backends.use(cpu);
        try {
            Tensor a = Tensor.randn(1, 128, 384).requiresGrad(true);
            Tensor b = Tensor.randn(2, 512, 128).requiresGrad(true);
            a.mul(a).sum().add(b.mul(3f).sum()).backward();
            List<Tensor> parameters = List.of(a, b);
            long requests = cpu.pool().misses() + cpu.pool().hits();
            float first = GradientClipping.clipGradNorm(parameters, 1f);
            float second = GradientClipping.clipGradNorm(parameters, 1f);
            assertTrue(first > 1f, "the first norm, " + first + ", clips");
            assertEquals(1f, second, 1e-3f, "the clipped gradients' norm");
            assertEquals(requests, cpu.pool().misses() + cpu.pool().hits(), "large arrays the clippings asked for");
        } finally {
            Backends.use(previous);
        }
    }

    /**
     * Gradients on two backends (two CPU instances): each backend sums its own, the sums are
     * added on the host in the gradients' order, and each gradient is scaled where it lives
     * (before, the composed path added the two backends' sums as tensors and failed).
     */
    @Test
    void gradientsOnTwoBackendsAreClippedTogether() {
        CpuBackend first = new CpuBackend();
        CpuBackend second = new CpuBackend();
        Backend previous = Backends.current();
        try {
            Backends.use(first);
            Tensor a = Tensor.randn(3, 128, 384).requiresGrad(true);
            a.mul(a).sum().backward();
            float squaresOfA = a.grad().mul(a.grad()).sum().item();
            Backends.use(second);
            Tensor b = Tensor.randn(4, 512, 128).requiresGrad(true);
            b.mul(3f).sum().backward();
            float squaresOfB = b.grad().mul(b.grad()).sum().item();
            float norm = GradientClipping.clipGradNorm(List.of(a, b), 1f);
            assertEquals(Float.floatToRawIntBits((float) Math.sqrt(squaresOfA + squaresOfB)),
                    Float.floatToRawIntBits(norm), "the norm: " + norm);
            assertEquals(1f, GradientClipping.clipGradNorm(List.of(a, b), 1f), 1e-3f, "the clipped gradients' norm");
        } finally {
            Backends.use(previous);
        }
    }
}
