package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ConvMaxPoolConformance;

/** A convolution layer fused with its max pooling, on the CPU backend with the kernels this JVM chose (the vector ones under the build's flags). */
class CpuConvMaxPoolTest extends ConvMaxPoolConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
