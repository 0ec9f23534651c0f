package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.NnConformance;

/** The Nn conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend}). */
class CoreOnlyNnTest extends NnConformance {

    private static final Backend CORE = new CoreOnlyBackend();

    @Override
    protected Backend backend() {
        return CORE;
    }
}
