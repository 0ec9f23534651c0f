package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.BatchNormConformance;
import org.adjoint.conformance.CoreOnlyBackend;

/** The batch normalisation conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend} over the CPU backend). */
class CoreOnlyBatchNormTest extends BatchNormConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
