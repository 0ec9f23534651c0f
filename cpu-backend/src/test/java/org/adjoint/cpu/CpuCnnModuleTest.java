package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CnnModuleConformance;

class CpuCnnModuleTest extends CnnModuleConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
