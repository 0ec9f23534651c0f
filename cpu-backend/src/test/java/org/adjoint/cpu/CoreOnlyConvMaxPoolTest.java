package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ConvMaxPoolConformance;
import org.adjoint.conformance.CoreOnlyBackend;

/** A convolution layer fused with its max pooling, on a backend that implements only the core: the SPI's composed defaults. */
class CoreOnlyConvMaxPoolTest extends ConvMaxPoolConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
