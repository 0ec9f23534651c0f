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
        var cudnn = assertThrows(IllegalStateException.class, () -> CudnnLibrary.bind(libc));
        assertEquals("libc.so.6 has no symbol cudnnGetVersion", cudnn.getMessage());
    }

    @Test
    void cudnnOnThisMachineIsEitherMissingWithAClearReasonOrBindsEverySymbol() {
        try {
            CudnnLibrary functions = CudnnLibrary.load(13, null);
            assertTrue(functions.version().startsWith("9."), functions.version());
        } catch (IllegalStateException e) {
            // Missing, or present but built for another CUDA major than 13.
            assertTrue(e.getMessage().startsWith("libcudnn.so.9 could not be loaded") || e.getMessage().contains("CUDA"),
                    e.getMessage());
        }
    }

    @Test
    void cudnnTakesNoEmptyShapeAndNoTensorOfTwoToThe31Elements() {
        ConvGeometry window = new ConvGeometry(4, 9, 8, 3, 2, 2, 2, 2);
        CudnnShape shape = CudnnShape.of(window, 5, 6, 2);
        assertEquals(new CudnnShape(5, 4, 9, 8, 6, 2, 3, 2, 2, 2, 2, 5, 5), shape);
        assertNull(CudnnShape.of(window, 0, 6, 2));
        assertNull(CudnnShape.of(new ConvGeometry(2, 0, 3, 1, 2, 1, 1, 1), 1, 2, 1));
        assertNull(CudnnShape.of(new ConvGeometry(0, 4, 4, 1, 1, 1, 0, 1), 1, 2, 1));
        // 2^31 output elements: 2^11 images of 2^10 channels of 32x32.
        assertNull(CudnnShape.of(new ConvGeometry(1, 32, 32, 1, 1, 1, 0, 1), 1 << 11, 1 << 10, 1));
    }

    @Test
    void sizeResultsAreReadAsUnsigned() {
        long limit = ForeignCudnn.WORKSPACE_LIMIT;
        assertTrue(!CudnnPlans.exceeds(0, limit) && !CudnnPlans.exceeds(limit, limit));
        assertTrue(CudnnPlans.exceeds(limit + 1, limit));
        // SIZE_MAX and 2^63, negative as a signed long.
        assertTrue(CudnnPlans.exceeds(-1L, limit));
        assertTrue(CudnnPlans.exceeds(Long.MIN_VALUE, limit));
    }

    @Test
    void theCudnnPropertyIsTrueFalseOrRequireAndNamesAnyOtherValue() {
        String before = System.getProperty(CudnnUse.PROPERTY);
        try {
            System.clearProperty(CudnnUse.PROPERTY);
            assertEquals(CudnnUse.ON, CudnnUse.fromProperty());
            System.setProperty(CudnnUse.PROPERTY, " False ");
            assertEquals(CudnnUse.OFF, CudnnUse.fromProperty());
            System.setProperty(CudnnUse.PROPERTY, "require");
            assertEquals(CudnnUse.REQUIRE, CudnnUse.fromProperty());
            System.setProperty(CudnnUse.PROPERTY, "always");
            var error = assertThrows(IllegalArgumentException.class, CudnnUse::fromProperty);
            assertEquals("cuda: -Dadjoint.cuda.cudnn=always is none of true, false, require", error.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(CudnnUse.PROPERTY);
            } else {
                System.setProperty(CudnnUse.PROPERTY, before);
            }
        }
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

    /**
     * cuDNN's parts are loaded only in version 9: {@code libcudnn_*.so.9}. Loading is checked
     * with stand-ins of other names (a stand-in named like cuDNN would shadow a real one in this
     * JVM): a {@code .so.8} part beside the library, whose loading would leave a marker file, is
     * left alone.
     */
    @Test
    void onlyTheLibrarysOwnMajorsPartsAreLoadedBesideIt() throws IOException, InterruptedException {
        assertTrue(CudnnLibrary.COMPANION.test("libcudnn_ops.so.9"));
        for (String other : List.of("libcudnn_ops.so.8", "libcudnn_ops.so", "libcudnn_ops.so.9.1.0", "libcudnn.so.9",
                "libcudnn_ops.so.19")) {
            assertTrue(!CudnnLibrary.COMPANION.test(other), other);
        }
        RequiredTool.assumeOnPath("gcc", "building stand-ins for a library's parts");
        Path folder = Files.createDirectory(temp.resolve("nvidia-standin-lib"));
        Path marker = temp.resolve("version-8-loaded");
        Path part = temp.resolve("part.c");
        Files.writeString(part, "int part(void) { return 1; }\n");
        Path old = temp.resolve("old.c");
        Files.writeString(old, "#include <stdio.h>\n__attribute__((constructor)) static void mark(void) {"
                + " FILE* f = fopen(\"" + marker + "\", \"w\"); if (f) fclose(f); }\n");
        build(folder, part, "libadjoint_standin_ops.so.9");
        build(folder, old, "libadjoint_standin_ops.so.8");
        build(folder, part, "libadjoint_standin.so.9", "-Wl,--no-as-needed", "-L" + folder,
                "-l:libadjoint_standin_ops.so.9");
        NativeLibraries.Loaded loaded = NativeLibraries.loadWithEveryCompanion(List.of("libadjoint_standin.so.9"),
                List.of(folder), name -> NativeLibraries.versionedParts("libadjoint_standin_", 9));
        assertEquals(folder.resolve("libadjoint_standin.so.9").toString(), loaded.location());
        assertTrue(!Files.exists(marker), "libadjoint_standin_ops.so.8 was loaded");
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
