package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.conformance.HeadsAttentionConformance;

/** The attention-over-heads conformance suite on a backend that implements only the core: the SPI's composed attention, gathering and scattering the heads. */
class CoreOnlyHeadsAttentionTest extends HeadsAttentionConformance {

    private static final Backend BACKEND = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return BACKEND;
    }
}
