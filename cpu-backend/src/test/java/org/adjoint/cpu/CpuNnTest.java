package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.NnConformance;

class CpuNnTest extends NnConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
