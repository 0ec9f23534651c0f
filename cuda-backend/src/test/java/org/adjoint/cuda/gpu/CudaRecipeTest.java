package org.adjoint.cuda.gpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.RecipeConformance;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

/** Nodes as recipes on the GPU: re-runs and recomputed saved tensors bit for bit. */
@Tag("gpu")
class CudaRecipeTest extends RecipeConformance {

    private static final Backend CUDA = new CudaBackend();

    @Override
    protected Backend backend() {
        return CUDA;
    }
}
