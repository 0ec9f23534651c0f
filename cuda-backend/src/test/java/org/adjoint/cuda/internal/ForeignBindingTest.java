package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.adjoint.backend.ConvGeometry;
import org.adjoint.kernels.cuda.RequiredTool;
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
        var cudnn = assertThrows(IllegalStateException.class, () -> ForeignCudnn.bind(libc));
        assertEquals("libc.so.6 has no symbol cudnnGetVersion", cudnn.getMessage());
    }

    @Test
    void cudnnOnThisMachineIsEitherMissingWithAClearReasonOrBindsEverySymbol() {
        try {
            ForeignCudnn.Functions functions = ForeignCudnn.load();
            assertTrue(functions.version().startsWith("9."), functions.version());
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage().startsWith("libcudnn.so.9 could not be loaded"), e.getMessage());
        }
    }

    @Test
    void cudnnTakesNoEmptyShapeAndNoTensorOfTwoToThe31Elements() {
        ConvGeometry window = new ConvGeometry(4, 9, 8, 3, 2, 2, 2, 2);
        ForeignCudnn.Shape shape = ForeignCudnn.Shape.of(window, 5, 6, 2);
        assertEquals(new ForeignCudnn.Shape(5, 4, 9, 8, 6, 2, 3, 2, 2, 2, 2, 5, 5), shape);
        assertNull(ForeignCudnn.Shape.of(window, 0, 6, 2));
        assertNull(ForeignCudnn.Shape.of(new ConvGeometry(2, 0, 3, 1, 2, 1, 1, 1), 1, 2, 1));
        assertNull(ForeignCudnn.Shape.of(new ConvGeometry(0, 4, 4, 1, 1, 1, 0, 1), 1, 2, 1));
        // 2^31 output elements: 2^11 images of 2^10 channels of 32x32.
        assertNull(ForeignCudnn.Shape.of(new ConvGeometry(1, 32, 32, 1, 1, 1, 0, 1), 1 << 11, 1 << 10, 1));
    }

    /**
     * A library split into parts that need one another and sit on no search path (cuDNN 9 in
     * PyTorch's wheels): its parts are loaded in rounds, and then it loads. Here
     * {@code libsplit.so.9} needs {@code libsplit_a.so.9}, which needs {@code libsplit_b.so.9}:
     * in name order, {@code _a} fails until {@code _b} is in.
     */
    @Test
    void everyCompanionIsLoadedInRoundsUntilTheLibraryLoads() throws IOException, InterruptedException {
        RequiredTool.assumeOnPath("gcc", "building a split library");
        Path folder = Files.createDirectory(temp.resolve("nvidia-split-lib"));
        Path source = temp.resolve("part.c");
        Files.writeString(source, "int part(void) { return 1; }\n");
        build(folder, source, "libsplit_b.so.9");
        // --no-as-needed: the parts call nothing of each other, and the need must stay in the files.
        build(folder, source, "libsplit_a.so.9", "-Wl,--no-as-needed", "-L" + folder, "-l:libsplit_b.so.9");
        build(folder, source, "libsplit.so.9", "-Wl,--no-as-needed", "-L" + folder, "-l:libsplit_a.so.9");
        assertThrows(IllegalStateException.class,
                () -> NativeLibraries.load(List.of("libsplit.so.9"), List.of(folder), name -> "libsplit_a"));
        NativeLibraries.Loaded loaded = NativeLibraries.loadWithEveryCompanion(List.of("libsplit.so.9"), List.of(folder),
                name -> file -> file.startsWith("libsplit_"));
        assertEquals(folder.resolve("libsplit.so.9").toString(), loaded.location());
        assertTrue(loaded.symbols().find("part").isPresent());
    }

    private static void build(Path folder, Path source, String name, String... libraries)
            throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("gcc", "-shared", "-fPIC", "-o",
                folder.resolve(name).toString(), "-Wl,-soname," + name, source.toString()));
        command.addAll(List.of(libraries));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), output);
    }
}
