package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.conformance.PrimitiveConformance;

/** The Primitive conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend} over the CPU backend). */
class CoreOnlyPrimitiveTest extends PrimitiveConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
