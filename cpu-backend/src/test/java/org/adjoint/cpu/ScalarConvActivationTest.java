package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ConvActivationConformance;
import org.adjoint.kernels.ScalarKernels;

/** The fused convolution on the CPU backend with the scalar kernels: the default's GEMMs, then the scalar tail. */
class ScalarConvActivationTest extends ConvActivationConformance {

    private static final Backend CPU = new CpuBackend(ScalarKernels.INSTANCE);

    @Override
    protected Backend backend() {
        return CPU;
    }
}
