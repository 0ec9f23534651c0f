package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.AttentionConformance;
import org.adjoint.conformance.CoreOnlyBackend;

/** The attention conformance suite on a backend that implements only the core: attention is the SPI's composed default. */
class CoreOnlyAttentionTest extends AttentionConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
