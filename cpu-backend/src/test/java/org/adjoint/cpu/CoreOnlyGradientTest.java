package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.GradientConformance;

/** The Gradient conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend}). */
class CoreOnlyGradientTest extends GradientConformance {

    private static final Backend CORE = new CoreOnlyBackend();

    @Override
    protected Backend backend() {
        return CORE;
    }
}
