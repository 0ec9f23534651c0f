package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.BackwardConformance;

/** The Backward conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend}). */
class CoreOnlyBackwardTest extends BackwardConformance {

    private static final Backend CORE = new CoreOnlyBackend();

    @Override
    protected Backend backend() {
        return CORE;
    }
}
