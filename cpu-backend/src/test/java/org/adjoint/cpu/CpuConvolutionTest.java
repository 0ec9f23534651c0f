package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ConvolutionConformance;

class CpuConvolutionTest extends ConvolutionConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
