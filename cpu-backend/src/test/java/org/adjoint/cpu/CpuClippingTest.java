package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ClippingConformance;

class CpuClippingTest extends ClippingConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
