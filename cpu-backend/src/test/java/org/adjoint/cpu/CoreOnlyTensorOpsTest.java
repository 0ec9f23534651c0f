package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.conformance.TensorOpsConformance;

/** The TensorOps conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend} over the CPU backend). */
class CoreOnlyTensorOpsTest extends TensorOpsConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
