package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.conformance.StructureConformance;

/** The structure conformance suite on a backend that implements only the core: the two-sided strided copy and the masked fill are the SPI's default bodies. */
class CoreOnlyStructureTest extends StructureConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
