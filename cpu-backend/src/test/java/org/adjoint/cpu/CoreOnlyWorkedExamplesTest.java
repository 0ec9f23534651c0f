package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.conformance.WorkedExamplesConformance;

/** The WorkedExamples conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend} over the CPU backend). */
class CoreOnlyWorkedExamplesTest extends WorkedExamplesConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
