package org.adjoint.cuda.gpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.conformance.NnConformance;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

/** The nn conformance suite with every composed operation on its default body over the GPU's core. */
@Tag("gpu")
class CudaCoreOnlyNnTest extends NnConformance {

    private static final Backend CORE = new CoreOnlyBackend(new CudaBackend());

    @Override
    protected Backend backend() {
        return CORE;
    }
}
