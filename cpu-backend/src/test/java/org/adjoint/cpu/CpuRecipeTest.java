package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.RecipeConformance;

/** Nodes as recipes on the CPU backend, once per kernel provider. */
class CpuRecipeTest extends RecipeConformance {

    private static final CpuBackend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
