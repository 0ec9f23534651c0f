package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.OptimConformance;

class CpuOptimTest extends OptimConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
