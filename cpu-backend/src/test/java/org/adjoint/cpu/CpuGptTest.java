package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.GptConformance;

class CpuGptTest extends GptConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
