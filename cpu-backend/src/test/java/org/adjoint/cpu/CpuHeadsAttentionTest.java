package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.HeadsAttentionConformance;

/** The attention-over-heads conformance suite on the CPU backend: its fused kernels read and write the heads where they lie. */
class CpuHeadsAttentionTest extends HeadsAttentionConformance {

    private static final Backend BACKEND = new CpuBackend();

    @Override
    protected Backend backend() {
        return BACKEND;
    }
}
