package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.BatchNormConformance;

class CpuBatchNormTest extends BatchNormConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
