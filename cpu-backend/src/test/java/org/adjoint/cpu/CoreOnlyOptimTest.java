package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.OptimConformance;

/** The Optim conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend}). */
class CoreOnlyOptimTest extends OptimConformance {

    private static final Backend CORE = new CoreOnlyBackend();

    @Override
    protected Backend backend() {
        return CORE;
    }
}
