package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.LayoutConformance;

class CpuLayoutTest extends LayoutConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
