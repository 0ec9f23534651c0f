package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ThreadingConformance;

class CpuThreadingTest extends ThreadingConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
