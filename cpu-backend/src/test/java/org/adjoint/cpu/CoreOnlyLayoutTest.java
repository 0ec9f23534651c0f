package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.conformance.LayoutConformance;

/** The layout conformance suite on a backend that implements only the core (see {@link CoreOnlyBackend} over the CPU backend). */
class CoreOnlyLayoutTest extends LayoutConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
