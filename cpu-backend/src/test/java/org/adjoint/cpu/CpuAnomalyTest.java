package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.AnomalyConformance;

class CpuAnomalyTest extends AnomalyConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
