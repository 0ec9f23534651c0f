package org.adjoint.cuda.gpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.ConvActivationConformance;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

@Tag("gpu")
class CudaConvActivationTest extends ConvActivationConformance {

    private static final Backend CUDA = new CudaBackend();

    @Override
    protected Backend backend() {
        return CUDA;
    }
}
