package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.GptConformance;
import org.adjoint.conformance.CoreOnlyBackend;

/** The GPT conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend} over the CPU backend). */
class CoreOnlyGptTest extends GptConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
