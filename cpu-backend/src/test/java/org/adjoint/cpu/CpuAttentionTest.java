package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.AttentionConformance;


/** The attention conformance suite on the CPU backend: its fused blocked kernels. */
class CpuAttentionTest extends AttentionConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
