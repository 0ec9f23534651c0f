package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.StructureConformance;

class CpuStructureTest extends StructureConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
