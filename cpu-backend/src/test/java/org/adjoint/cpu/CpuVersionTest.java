package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.VersionConformance;

class CpuVersionTest extends VersionConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
