package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.GatheredAccumulationConformance;

/** Gathered leaf accumulation on the CPU backend (which adds at once by itself), bit for bit. */
class GatheredAccumulationTest extends GatheredAccumulationConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
