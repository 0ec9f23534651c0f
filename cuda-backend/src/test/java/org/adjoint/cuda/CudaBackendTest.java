package org.adjoint.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

class CudaBackendTest {

    @Test
    void reportsWhyItIsUnavailable() {
        CudaBackend cuda = new CudaBackend();
        assertEquals("cuda", cuda.name());
        assertTrue(cuda.unavailableReason().orElseThrow().contains("not implemented"));
        var error = assertThrows(UnsupportedOperationException.class, () -> cuda.allocate(4));
        assertTrue(error.getMessage().startsWith("cuda backend unavailable: "), error.getMessage());
    }

    @Test
    void askingForItByNameFailsWithTheReason() {
        var error = assertThrows(IllegalStateException.class, () -> Backends.use("cuda"));
        assertTrue(error.getMessage().contains("backend 'cuda' is unavailable: the CUDA kernels are not implemented"),
                error.getMessage());
    }
}
