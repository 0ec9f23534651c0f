package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.conformance.OptimConformance;

/** The Optim conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend} over the CPU backend). */
class CoreOnlyOptimTest extends OptimConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
