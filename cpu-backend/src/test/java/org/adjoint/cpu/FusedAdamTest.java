package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.FusedAdamConformance;

/** The CPU backend's fused Adam kernel against the composed update, bit for bit. */
class FusedAdamTest extends FusedAdamConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
