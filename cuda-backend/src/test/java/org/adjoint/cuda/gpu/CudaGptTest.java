package org.adjoint.cuda.gpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.GptConformance;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

@Tag("gpu")
class CudaGptTest extends GptConformance {

    private static final Backend CUDA = new CudaBackend();

    @Override
    protected Backend backend() {
        return CUDA;
    }
}
