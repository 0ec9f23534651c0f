package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.AutodiffConformance;

class CpuAutodiffTest extends AutodiffConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
