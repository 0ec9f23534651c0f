package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.GradientConformance;

class CpuGradientTest extends GradientConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
