package org.adjoint.cuda.gpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.GatheredAccumulationConformance;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

/** Leaf accumulation gathered into {@code axpy_many} launches against one {@code axpy} per contribution, bit for bit. */
@Tag("gpu")
class CudaGatheredAccumulationTest extends GatheredAccumulationConformance {

    private static final Backend CUDA = new CudaBackend();

    @Override
    protected Backend backend() {
        return CUDA;
    }
}
