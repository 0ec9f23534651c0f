package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The java.lang.foreign bindings' failures, which a CPU-only machine can produce. */
class ForeignBindingTest {

    @TempDir
    Path temp;

    @Test
    void aMissingLibraryNamesEveryNameAndFolderTriedAndTheFix() throws IOException {
        Path folder = Files.createDirectory(temp.resolve("lib64"));
        var error = assertThrows(IllegalStateException.class,
                () -> NativeLibraries.load(List.of("libadjoint-missing.so.13", "libadjoint-missing.so.12"), List.of(folder)));
        String message = error.getMessage();
        assertTrue(message.startsWith("libadjoint-missing.so.13 or libadjoint-missing.so.12 could not be loaded:"
                + " not found by the dynamic linker (LD_LIBRARY_PATH="), message);
        assertTrue(message.contains("nor in [" + folder + "]"), message);
        assertTrue(message.endsWith("add its folder to LD_LIBRARY_PATH or to -Dadjoint.cuda.libraryPath"), message);
    }

    @Test
    void cublasOnThisMachineIsEitherMissingWithAClearReasonOrBindsEverySymbol() {
        try {
            ForeignBlas.Functions functions = ForeignBlas.load();
            assertTrue(functions.location().contains("libcublas.so.1"), functions.location());
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage().startsWith("libcublas.so.13 or libcublas.so.12 could not be loaded"), e.getMessage());
        }
    }

    @Test
    void nvrtcOnThisMachineIsEitherMissingWithAClearReasonOrBindsEverySymbol() {
        try {
            ForeignNvrtc nvrtc = ForeignNvrtc.load();
            assertTrue(nvrtc.description().startsWith("java.lang.foreign ("), nvrtc.description());
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage().startsWith("libnvrtc.so.13 or libnvrtc.so.12 could not be loaded"), e.getMessage());
        }
    }

    @Test
    void aLibraryWithoutTheEntryPointsNamesTheFirstMissingSymbol() {
        NativeLibraries.Loaded libc = NativeLibraries.load(List.of("libc.so.6"), List.of());
        assertEquals("libc.so.6", libc.location());
        var blas = assertThrows(IllegalStateException.class, () -> ForeignBlas.bind(libc));
        assertEquals("libc.so.6 has no symbol cublasCreate_v2", blas.getMessage());
        var nvrtc = assertThrows(IllegalStateException.class, () -> ForeignNvrtc.bind(libc));
        assertEquals("libc.so.6 has no symbol nvrtcCreateProgram", nvrtc.getMessage());
    }
}
