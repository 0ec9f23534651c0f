package org.adjoint.cuda.gpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.HeadsAttentionConformance;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

/** The attention-over-heads conformance suite on the CUDA backend: its fused kernels over two batch axes, the SPI's default over more. */
@Tag("gpu")
class CudaHeadsAttentionTest extends HeadsAttentionConformance {

    private static final Backend CUDA = new CudaBackend();

    @Override
    protected Backend backend() {
        return CUDA;
    }
}
