package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.NormalizationConformance;

class CpuNormalizationTest extends NormalizationConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
