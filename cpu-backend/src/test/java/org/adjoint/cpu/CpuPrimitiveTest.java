package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.PrimitiveConformance;

class CpuPrimitiveTest extends PrimitiveConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
