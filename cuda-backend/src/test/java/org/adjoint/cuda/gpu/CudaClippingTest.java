package org.adjoint.cuda.gpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ClippingConformance;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

@Tag("gpu")
class CudaClippingTest extends ClippingConformance {

    private static final Backend CUDA = new CudaBackend();

    @Override
    protected Backend backend() {
        return CUDA;
    }
}
