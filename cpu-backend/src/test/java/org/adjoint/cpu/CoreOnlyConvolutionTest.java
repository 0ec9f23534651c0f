package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ConvolutionConformance;
import org.adjoint.conformance.CoreOnlyBackend;

/** The convolution conformance suite on a backend that implements only the core: im2col and col2im are the SPI's default bodies. */
class CoreOnlyConvolutionTest extends ConvolutionConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
