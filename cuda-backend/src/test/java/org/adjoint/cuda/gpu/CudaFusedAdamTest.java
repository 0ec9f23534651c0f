package org.adjoint.cuda.gpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.FusedAdamConformance;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

/** The CUDA backend's {@code adam} kernel against the update composed from its other kernels, bit for bit. */
@Tag("gpu")
class CudaFusedAdamTest extends FusedAdamConformance {

    private static final Backend CUDA = new CudaBackend();

    @Override
    protected Backend backend() {
        return CUDA;
    }
}
