package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.TensorOpsConformance;

/** The TensorOps conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend}). */
class CoreOnlyTensorOpsTest extends TensorOpsConformance {

    private static final Backend CORE = new CoreOnlyBackend();

    @Override
    protected Backend backend() {
        return CORE;
    }
}
