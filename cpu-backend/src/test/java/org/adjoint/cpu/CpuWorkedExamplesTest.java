package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.WorkedExamplesConformance;

class CpuWorkedExamplesTest extends WorkedExamplesConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
