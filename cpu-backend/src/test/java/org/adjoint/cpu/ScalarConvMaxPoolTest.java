package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ConvMaxPoolConformance;
import org.adjoint.kernels.ScalarKernels;

/** A convolution layer fused with its max pooling, on the CPU backend with the scalar kernels: the default's GEMMs, then the scalar tail. */
class ScalarConvMaxPoolTest extends ConvMaxPoolConformance {

    private static final Backend CPU = new CpuBackend(ScalarKernels.INSTANCE);

    @Override
    protected Backend backend() {
        return CPU;
    }
}
