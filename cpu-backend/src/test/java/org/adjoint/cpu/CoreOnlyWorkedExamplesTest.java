package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.WorkedExamplesConformance;

/** The WorkedExamples conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend}). */
class CoreOnlyWorkedExamplesTest extends WorkedExamplesConformance {

    private static final Backend CORE = new CoreOnlyBackend();

    @Override
    protected Backend backend() {
        return CORE;
    }
}
