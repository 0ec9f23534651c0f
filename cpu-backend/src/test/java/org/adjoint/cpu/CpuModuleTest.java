package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ModuleConformance;

class CpuModuleTest extends ModuleConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
