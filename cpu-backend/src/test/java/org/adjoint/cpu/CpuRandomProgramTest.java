package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.RandomProgramConformance;
import org.adjoint.kernels.ScalarKernels;

/**
 * Random programs on the CPU backend, once per kernel provider (Surefire runs this module's
 * tests twice). On the vector provider every program is also run on the scalar twin, whose
 * values and gradients it must match.
 */
class CpuRandomProgramTest extends RandomProgramConformance {

    private static final CpuBackend CPU = new CpuBackend();

    private static final Backend SCALAR = CPU.kernels() instanceof ScalarKernels ? null
            : new CpuBackend(ScalarKernels.INSTANCE);

    @Override
    protected Backend backend() {
        return CPU;
    }

    @Override
    protected Backend referenceBackend() {
        return SCALAR;
    }

    @Override
    protected String description() {
        return "cpu (" + CPU.kernels().name() + " kernels" + (SCALAR == null ? "" : ", compared with the scalar kernels")
                + ")";
    }
}
