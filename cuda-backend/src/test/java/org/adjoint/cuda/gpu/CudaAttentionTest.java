package org.adjoint.cuda.gpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.AttentionConformance;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

/** The attention conformance suite on the CUDA backend: its fused kernels (head widths up to 128). */
@Tag("gpu")
class CudaAttentionTest extends AttentionConformance {

    private static final Backend CUDA = new CudaBackend();

    @Override
    protected Backend backend() {
        return CUDA;
    }
}
