package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.CheckpointConformance;

class CpuCheckpointTest extends CheckpointConformance {

    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
