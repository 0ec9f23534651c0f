package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ErrorConformance;

class CpuErrorTest extends ErrorConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
