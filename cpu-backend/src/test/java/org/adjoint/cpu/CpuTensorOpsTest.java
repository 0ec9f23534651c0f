package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.TensorOpsConformance;

class CpuTensorOpsTest extends TensorOpsConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
