package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.BackwardConformance;

class CpuBackwardTest extends BackwardConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
