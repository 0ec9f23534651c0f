package org.adjoint.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adjoint.Tensor;
import org.junit.jupiter.api.Test;

/** The engine's own tests run with no backend on the class path, which is a state worth testing. */
class NoBackendTest {

    @Test
    void creatingATensorWithoutABackendSaysWhichArtifactToAdd() {
        assertTrue(Backends.installed().isEmpty());
        var error = assertThrows(IllegalStateException.class, () -> Tensor.zeros(2));
        assertEquals("no Adjoint backend on the class path: add the artifact org.adjoint:adjoint-cpu-backend "
                + "(or org.adjoint:adjoint-cuda-backend for NVIDIA GPUs)", error.getMessage());
    }

    @Test
    void askingForAMissingBackendByName() {
        var error = assertThrows(IllegalStateException.class, () -> Backends.use("cpu"));
        assertEquals("backend 'cpu' is not on the class path (installed: []); add org.adjoint:adjoint-cpu-backend",
                error.getMessage());
        // A name that is none of Adjoint's gets no artifact that does not exist.
        var unknown = assertThrows(IllegalStateException.class, () -> Backends.use("gpu"));
        assertEquals("backend 'gpu' is not on the class path (installed: []); Adjoint's backends are [cpu, cuda]",
                unknown.getMessage());
    }
}
