package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ConvActivationConformance;
import org.adjoint.conformance.CoreOnlyBackend;

/** The fused convolution on a backend that implements only the core: the SPI's composed defaults. */
class CoreOnlyConvActivationTest extends ConvActivationConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
