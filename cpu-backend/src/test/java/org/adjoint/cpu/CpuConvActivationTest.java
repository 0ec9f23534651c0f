package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ConvActivationConformance;

/** The fused convolution on the CPU backend with the kernels this JVM chose (the vector ones under the build's flags). */
class CpuConvActivationTest extends ConvActivationConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
