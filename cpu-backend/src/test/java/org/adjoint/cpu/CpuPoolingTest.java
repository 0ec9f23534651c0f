package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.PoolingConformance;

class CpuPoolingTest extends PoolingConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
