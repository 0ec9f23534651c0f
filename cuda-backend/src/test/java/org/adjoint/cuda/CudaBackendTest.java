package org.adjoint.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.cuda.internal.DriverLibrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** What the backend says about itself on a machine without the CUDA driver (CI's and this one). */
class CudaBackendTest {

    private final CudaBackend cuda = new CudaBackend();

    @Test
    void isNamedCudaAndPreferredOverTheCpu() {
        assertEquals("cuda", cuda.name());
        assertTrue(cuda.priority() > 0, "the CPU backend's priority is 0");
        assertTrue(Backends.installed().stream().anyMatch(b -> b instanceof CudaBackend), "registered as a service");
    }

    @Test
    void withoutTheDriverTheReasonSaysSoAndWhereItLooked() {
        assumeTrue(DriverLibrary.locate().isEmpty(), "this machine has libcuda.so.1");
        String reason = cuda.unavailableReason().orElseThrow();
        assertTrue(reason.startsWith("no CUDA driver: libcuda.so.1 was not found (looked in LD_LIBRARY_PATH="), reason);
        assertTrue(reason.contains("/usr/lib/x86_64-linux-gnu") && reason.contains("/etc/ld.so.cache"), reason);
        assertTrue(reason.endsWith("install the NVIDIA driver, or add the folder that holds libcuda.so.1 to LD_LIBRARY_PATH"),
                reason);
        assertEquals(reason, new CudaBackend().unavailableReason().orElseThrow(), "worked out once, the same every time");
    }

    @Test
    void unavailableReasonNeverThrowsAndIsStable() {
        var first = cuda.unavailableReason();
        var second = cuda.unavailableReason();
        assertEquals(first, second);
        first.ifPresent(reason -> assertFalse(reason.isBlank()));
    }

    @Test
    void everyOperationFailsWithTheReason() {
        String reason = cuda.unavailableReason().orElse(null);
        assumeTrue(reason != null, "a GPU is available here");
        List<Executable> calls = List.of(
                () -> cuda.allocate(4),
                () -> cuda.upload(new float[] {1}),
                () -> cuda.memoryStats(),
                () -> cuda.emptyCache(),
                () -> cuda.synchronize(),
                () -> cuda.gemm(false, false, 1, 1, 1, 1, 1f, null, 0, null, 0, 0f, null, 0));
        for (Executable call : calls) {
            var error = assertThrows(UnsupportedOperationException.class, call);
            assertEquals("cuda backend unavailable: " + reason, error.getMessage());
        }
    }

    @Test
    void askingForItByNameFailsWithTheReasonAndTheCpuIsChosen() {
        String reason = cuda.unavailableReason().orElse(null);
        assumeTrue(reason != null, "a GPU is available here");
        var error = assertThrows(IllegalStateException.class, () -> Backends.use("cuda"));
        assertEquals("backend 'cuda' is unavailable: " + reason, error.getMessage());
        Backend best = Backends.installed().stream().filter(b -> b.unavailableReason().isEmpty()).findFirst().orElseThrow();
        assertEquals("cpu", best.name());
    }

    @Test
    void buffersOfAnotherBackendAreRefused() {
        Backend cpu = Backends.installed().stream().filter(b -> b.name().equals("cpu")).findFirst().orElseThrow();
        var error = assertThrows(IllegalArgumentException.class, () -> cuda.release(cpu.upload(new float[] {1})));
        assertTrue(error.getMessage().startsWith("cuda backend: cannot use a buffer of another backend"), error.getMessage());
    }
}
