package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.conformance.ConvolutionOpsConformance;

/** The sliding-window conformance suite (the default bodies of ConvolutionOps) on a backend that implements only the core (see {@link CoreOnlyBackend} over the CPU backend). */
class CoreOnlyConvolutionOpsTest extends ConvolutionOpsConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CpuBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
