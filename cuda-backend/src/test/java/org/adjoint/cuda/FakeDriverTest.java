package org.adjoint.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.cuda.internal.DriverLibrary;
import org.adjoint.cuda.internal.CudnnLibrary;
import org.adjoint.cuda.internal.CudnnShape;
import org.adjoint.cuda.internal.ForeignCudnn;
import org.adjoint.kernels.cuda.RequiredTool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole backend on the CPU, over stand-ins for {@code libcuda.so.1}, cuBLAS, NVRTC and
 * cuDNN (C sources under {@code src/test/resources/org/adjoint/cuda/fake}, built here with
 * {@code gcc}, once under CUDA 13's library names, with cuDNN 9 beside them, and once under
 * CUDA 12's, with its symbol versions and without cuDNN, so that convolutions take each path):
 * device memory is host memory and kernels are plain C loops with the kernels' parameter
 * lists. This runs every JCuda driver call, both bindings of cuBLAS and NVRTC (JCublas2 and
 * JNvrtc, and {@code java.lang.foreign}) and the choice between them, the kernels' parameter
 * layout and launch shapes, pinned staging and the allocator as a GPU would see them, and the
 * GPU suites on top. It cannot check the real kernels, the real libraries or asynchrony (the
 * fake runs everything at once); the {@code gpu} profile does.
 */
class FakeDriverTest {

    private static final String FAKES = "/org/adjoint/cuda/fake/";
    /** Random programs per binding pair: enough to reach every operation, few enough for CI. */
    private static final int FAKE_PROGRAMS = 300;

    @TempDir
    static Path temp;
    /** CUDA 13's library names: JCuda's JNI libraries do not load, the java.lang.foreign bindings are used. */
    private static Path cuda13;
    /** CUDA 12's names and symbol versions: JCublas2 and JNvrtc load. */
    private static Path cuda12;
    /** CUDA 13's names, with an NVRTC that lacks nvrtcGetCUBINSize and nvrtcGetCUBIN. */
    private static Path ptxOnly;
    /** cuDNN alone, in a folder on no search path (as PyTorch's wheels keep it), with a part beside it. */
    private static Path cudnnFolder;
    /** A cuDNN built for CUDA 12, with a part beside it that does not load. */
    private static Path cudnn12Folder;

    @BeforeAll
    static void buildTheFakeLibraries() throws IOException, InterruptedException {
        assumeTrue(DriverLibrary.locate().isEmpty(), "a real CUDA driver is installed here");
        RequiredTool.assumeOnPath("gcc", "the fake CUDA driver's libraries");
        cuda13 = Files.createDirectory(temp.resolve("cuda13"));
        cuda12 = Files.createDirectory(temp.resolve("cuda12"));
        ptxOnly = Files.createDirectory(temp.resolve("ptx-only"));
        for (Path folder : List.of(cuda13, cuda12, ptxOnly)) {
            compile("fake_driver.c", folder, "libcuda.so.1", null);
        }
        compile("fake_cublas.c", cuda13, "libcublas.so.13", null);
        compile("fake_nvrtc.c", cuda13, "libnvrtc.so.13", null);
        // JCuda's JNI libraries ask for symbols of version libcublas.so.12 / libnvrtc.so.12.
        compile("fake_cublas.c", cuda12, "libcublas.so.12", "libcublas.so.12");
        compile("fake_nvrtc.c", cuda12, "libnvrtc.so.12", "libnvrtc.so.12", "-DFAKE_NVRTC_MAJOR=12");
        compile("fake_cublas.c", ptxOnly, "libcublas.so.13", null);
        compile("fake_nvrtc.c", ptxOnly, "libnvrtc.so.13", null, "-DFAKE_NVRTC_NO_CUBIN");
        // cuDNN 9 beside CUDA 13's libraries; the CUDA 12 folder has none (the im2col path).
        compile("fake_cudnn.c", cuda13, "libcudnn.so.9", null);
        cudnnFolder = Files.createDirectory(temp.resolve("site-packages-nvidia-cudnn-lib"));
        compile("fake_cudnn.c", cudnnFolder, "libcudnn.so.9", null);
        cudnn12Folder = Files.createDirectory(temp.resolve("cudnn-for-cuda12"));
        compile("fake_cudnn.c", cudnn12Folder, "libcudnn.so.9", null, "-DFAKE_CUDNN_CUDART_DEFAULT=12080");
        Files.writeString(cudnn12Folder.resolve("libcudnn_broken.so.9"), "not a shared object\n");
    }

    private static void compile(String source, Path folder, String library, String symbolVersion, String... defines)
            throws IOException, InterruptedException {
        Path file = temp.resolve(source);
        try (InputStream in = FakeDriverTest.class.getResourceAsStream(FAKES + source)) {
            Files.write(file, in.readAllBytes());
        }
        List<String> command = new ArrayList<>(List.of("gcc", "-O1", "-shared", "-fPIC", "-o",
                folder.resolve(library).toString(), file.toString(), "-lm"));
        command.addAll(List.of(defines));
        if (symbolVersion != null) {
            Path script = temp.resolve(symbolVersion + ".map");
            Files.writeString(script, symbolVersion + " { global: *; };\n");
            command.addAll(List.of("-Wl,-soname," + library, "-Wl,--version-script=" + script));
        }
        Result result = run(command, Map.of());
        assertEquals(0, result.exitCode, result.output);
    }

    @Test
    void withCuda13LibrariesTheForeignBindingsAreChosenAndTheLineSaysWhy() throws IOException, InterruptedException {
        String line = logLine(child(cuda13, Map.of(), "probe"));
        assertTrue(line.startsWith("INFO: Adjoint CUDA backend on device 0, Fake GPU (compute capability 9.0, 2 SMs,"
                + " driver 13.0, NVRTC 13.0): cuBLAS through java.lang.foreign (libcublas.so.13), because JCuda's binding did not load ("), line);
        assertTrue(line.contains("libcublas.so.12: cannot open shared object file"), line);
        assertTrue(line.contains("; NVRTC through java.lang.foreign (libnvrtc.so.13), because JCuda's binding did not load"),
                line);
        assertTrue(line.endsWith("; TF32 off; device memory from the driver's stream-ordered pool; convolution: cuDNN"
                + " checked on first convolution"), line);
        assertEquals("cuDNN 9.1.0 (libcudnn.so.9, found by the dynamic linker)", convolutionOf(child(cuda13, Map.of(),
                "probe")));
    }

    @Test
    void theLogLineNamesTheConvolutionPathAndWhyNotCudnn() throws IOException, InterruptedException {
        String off = logLine(child(cuda13, Map.of(), "-Dadjoint.cuda.cudnn=false", "probe"));
        assertTrue(off.endsWith("; convolution: im2col + cuBLAS (cuDNN: off, -Dadjoint.cuda.cudnn=false)"), off);
        String missing = convolutionOf(child(cuda12, Map.of(), "probe"));
        assertTrue(missing.startsWith("im2col + cuBLAS (cuDNN: libcudnn.so.9 could not be loaded: not found by"
                + " the dynamic linker (LD_LIBRARY_PATH=" + cuda12 + ") nor in ["), missing);
        // A cuDNN for CUDA 12 beside CUDA 12's cuBLAS.
        String elsewhere = convolutionOf(child(cuda12, Map.of("FAKE_CUDNN_CUDART", "12080"),
                "-Dadjoint.cuda.libraryPath=" + cudnnFolder, "probe"));
        assertEquals("cuDNN 9.1.0 (libcudnn.so.9 at " + cudnnFolder.resolve("libcudnn.so.9") + ")", elsewhere);
        String refused = convolutionOf(child(cuda13, Map.of("FAKE_CUDNN_FAIL", "cudnnCreate"), "probe"));
        assertEquals("im2col + cuBLAS (cuDNN: cuda: cudnnCreate failed: CUDNN_STATUS_NOT_INITIALIZED (1001))", refused);
    }

    @Test
    void aFolderWhoseCudnnIsBuiltForAnotherCudaIsPassedOverAndPartsThatDoNotLoadAreNamed()
            throws IOException, InterruptedException {
        // CUDA 12's cuBLAS: the first folder's cuDNN is CUDA 13's and is passed over for the second's.
        String path = convolutionOf(child(cuda12, Map.of(),
                "-Dadjoint.cuda.libraryPath=" + cudnnFolder + java.io.File.pathSeparator + cudnn12Folder, "probe"));
        assertTrue(path.startsWith("cuDNN 9.1.0 (libcudnn.so.9 at " + cudnn12Folder.resolve("libcudnn.so.9")
                + "; its parts that did not load: libcudnn_broken.so.9 ("), path);
        // CUDA 13's cuBLAS: only a CUDA 12 cuDNN in the path, and CUDA 13's found by the dynamic linker refused too.
        String none = convolutionOf(child(cuda12, Map.of("FAKE_CUDNN_CUDART", "13000"),
                "-Dadjoint.cuda.libraryPath=" + cudnnFolder, "probe"));
        assertEquals("im2col + cuBLAS (cuDNN: cuDNN 9.1.0 is built for CUDA 13 (cudnnGetCudartVersion 13000) but"
                + " cuBLAS here is CUDA 12's)", none);
    }

    @Test
    void cudnnConvolutionsRepeatTheirBitsAndUseNoTf32UnlessAskedFor() throws IOException, InterruptedException {
        // The fake's non-deterministic backward algorithms add in another order every other call.
        Result off = child(cuda13, Map.of(), "conv");
        assertTrue(off.output.contains("convolution: cuDNN 9.1.0") && off.output.contains("\nrepeatable: true\n"),
                off.output);
        // Its math-type check refuses CUDNN_FMA_MATH when it expects TF32, and tensor-op math when it does not:
        // the trial finds the refusal, and the im2col path runs.
        Result expectingTf32 = child(cuda13, Map.of("FAKE_CUDNN_TF32", "1"), "conv");
        assertTrue(expectingTf32.output.contains("convolution: im2col + cuBLAS (cuDNN: the trial convolutions failed: the"
                + " trial cudnnConvolutionForward was declined: cuda: cudnnSetConvolutionMathType failed:"
                + " CUDNN_STATUS_BAD_PARAM (2000))\nrepeatable: true\n"),
                expectingTf32.output);
        Result on = child(cuda13, Map.of("FAKE_CUDNN_TF32", "1", "FAKE_CUBLAS_EXPECT_MODE", "3"), "-Dadjoint.cuda.tf32=true",
                "conv");
        assertTrue(on.output.contains("\nrepeatable: true\n"), on.output);
    }

    @Test
    void aCudnnOfAnotherMajorOrBuiltForAnotherCudaIsNotUsed() throws IOException, InterruptedException {
        String eight = convolutionOf(child(cuda13, Map.of("FAKE_CUDNN_VERSION", "8907"), "probe"));
        assertEquals("im2col + cuBLAS (cuDNN: libcudnn.so.9 reports cuDNN 8.9.7 (cudnnGetVersion 8907), not cuDNN 9)",
                eight);
        String cuda12Build = convolutionOf(child(cuda13, Map.of("FAKE_CUDNN_CUDART", "12080"), "probe"));
        assertEquals("im2col + cuBLAS (cuDNN: cuDNN 9.1.0 is built for CUDA 12 (cudnnGetCudartVersion 12080) but cuBLAS"
                + " here is CUDA 13's)", cuda12Build);
        // A size_t of 2^64 - 1 is not -1.
        String absurd = convolutionOf(child(cuda13, Map.of("FAKE_CUDNN_CUDART", "18446744073709551615"), "probe"));
        assertTrue(absurd.endsWith("(cuDNN: cuDNN 9.1.0 is built for CUDA 18446744073709551 (cudnnGetCudartVersion"
                + " 18446744073709551615) but cuBLAS here is CUDA 13's)"), absurd);
        Result convolved = child(cuda13, Map.of("FAKE_CUDNN_CUDART", "12080"), "conv");
        assertTrue(convolved.output.contains("\nrepeatable: true\nfallbacks: 0\n"), convolved.output);
    }

    @Test
    void aFailingOrWrongTrialLeavesTheIm2colPathWithTheReasonLogged() throws IOException, InterruptedException {
        Result failing = child(cuda13, Map.of("FAKE_CUDNN_FAIL", "cudnnConvolutionBackwardFilter"), "conv");
        String reason = "im2col + cuBLAS (cuDNN: the trial convolutions failed: cuda: cudnnConvolutionBackwardFilter"
                + " failed: CUDNN_STATUS_EXECUTION_FAILED (5000))";
        assertTrue(failing.output.contains("convolution: " + reason + "\nrepeatable: true\nfallbacks: 0\n"),
                failing.output);
        assertTrue(failing.output.contains("WARNING: Adjoint CUDA backend on device 0: cuDNN is not used; convolution: "
                + reason), failing.output);
        Result wrong = child(cuda13, Map.of("FAKE_CUDNN_WRONG", "cudnnConvolutionBackwardData"), "conv");
        assertTrue(wrong.output.contains("convolution: im2col + cuBLAS (cuDNN: the trial convolutions failed: the trial"
                + " cudnnConvolutionBackwardData differs from the im2col path: element 0 is "), wrong.output);
        assertTrue(wrong.output.contains("\nrepeatable: true\nfallbacks: 0\n"), wrong.output);
        Result required = child(cuda13, Map.of("FAKE_CUDNN_WRONG", "cudnnConvolutionForward"),
                "-Dadjoint.cuda.cudnn=require", "conv");
        assertTrue(required.output.contains("error: cuda conv2d: -Dadjoint.cuda.cudnn=require, but cuDNN is not used:"
                + " im2col + cuBLAS (cuDNN: the trial convolutions failed: the trial cudnnConvolutionForward differs"),
                required.output);
    }

    @Test
    void aFailingCudnnCallTakesTheIm2colPathCountedAndLoggedOnceOrUnderRequireThrows()
            throws IOException, InterruptedException {
        // The trial's weight gradient succeeds; every later one fails.
        Map<String, String> failAfterTrial = Map.of("FAKE_CUDNN_FAIL", "cudnnConvolutionBackwardFilter",
                "FAKE_CUDNN_FAIL_AFTER", "1");
        Result result = child(cuda13, failAfterTrial, "conv");
        assertTrue(result.output.contains("convolution: cuDNN 9.1.0") && result.output.contains("\nrepeatable: true\n"
                + "fallbacks: 2\n"), result.output);
        List<String> warnings = result.output.lines().filter(l -> l.startsWith("WARNING: Adjoint")).toList();
        assertEquals(List.of("WARNING: Adjoint CUDA backend on device 0: cuda conv2dWeightGrad: cuda:"
                + " cudnnConvolutionBackwardFilter failed: CUDNN_STATUS_EXECUTION_FAILED (5000); the call took the im2col"
                + " path (logged once per kind; CudaBackend.cudnnFallbacks() counts them)"), warnings, result.output);
        Result required = child(cuda13, failAfterTrial, "-Dadjoint.cuda.cudnn=require", "conv");
        assertTrue(required.output.contains("error: cuda conv2dWeightGrad: cuda: cudnnConvolutionBackwardFilter failed:"
                + " CUDNN_STATUS_EXECUTION_FAILED (5000); -Dadjoint.cuda.cudnn=require allows no fallback to the im2col"
                + " path"), required.output);
    }

    @Test
    void aResultThatAFailedCudnnCallLeftHalfWrittenIsOverwrittenByTheIm2colPath() throws IOException, InterruptedException {
        // After the trial, every forward call fills its result with NaN and fails: the im2col path writes it again.
        Result garbled = child(cuda13, Map.of("FAKE_CUDNN_GARBLE", "cudnnConvolutionForward", "FAKE_CUDNN_FAIL_AFTER", "1"),
                "conv");
        Result im2col = child(cuda13, Map.of(), "-Dadjoint.cuda.cudnn=false", "conv");
        assertTrue(garbled.output.contains("\nrepeatable: true\nfallbacks: 2\n"), garbled.output);
        String forwardBits = bits(im2col).split(" ")[0];
        assertEquals(forwardBits, bits(garbled).split(" ")[0], garbled.output);
    }

    private static String bits(Result result) {
        return result.output.lines().filter(l -> l.startsWith("result bits: ")).findFirst()
                .orElseThrow(() -> new AssertionError(result.output)).substring("result bits: ".length());
    }

    @Test
    void theTrialFindsABindingThatPassesTheStrideForTheDilation() throws IOException, InterruptedException {
        Result swapped = child(cuda13, Map.of("FAKE_CUDNN_SWAP_STRIDE_DILATION", "1"), "conv");
        assertTrue(swapped.output.contains("convolution: im2col + cuBLAS (cuDNN: the trial convolutions failed: the trial"
                + " cudnnConvolutionForward "), swapped.output);
        assertTrue(swapped.output.contains("\nrepeatable: true\nfallbacks: 0\n"), swapped.output);
    }

    @Test
    void aFailedChoiceIsKeptCountedOnEveryCallButNotAskedAgain() throws IOException, InterruptedException {
        // The trial's heuristic answers; the program's shape's fails (NOT_SUPPORTED) on each of its two calls.
        String heuristic = "cudnnGetConvolutionBackwardFilterAlgorithm_v7";
        Result result = child(cuda13, Map.of("FAKE_CUDNN_FAIL", heuristic, "FAKE_CUDNN_FAIL_AFTER", "1",
                "FAKE_CUDNN_TRACE", "1"), "conv");
        assertTrue(result.output.contains("convolution: cuDNN 9.1.0") && result.output.contains("\nrepeatable: true\n"
                + "fallbacks: 2\n"), result.output);
        assertEquals(2, result.output.lines().filter(l -> l.equals("fake cudnn: " + heuristic)).count(), result.output);
        List<String> warnings = result.output.lines().filter(l -> l.startsWith("WARNING: Adjoint")).toList();
        assertEquals(1, warnings.size(), result.output);
        assertTrue(warnings.get(0).contains("cuda conv2dWeightGrad: cuda: " + heuristic + " failed:"
                + " CUDNN_STATUS_NOT_SUPPORTED (3000)"), warnings.get(0));
    }

    @Test
    void requireMakesAnAbsentCudnnAnErrorAndAnUnknownValueIsNamed() throws IOException, InterruptedException {
        String line = convolutionOf(child(cuda12, Map.of(), "-Dadjoint.cuda.cudnn=require", "probe"));
        assertTrue(line.startsWith("im2col + cuBLAS (cuDNN: libcudnn.so.9 could not be loaded")
                && line.endsWith("; convolutions throw, since -Dadjoint.cuda.cudnn=require)"), line);
        Result absent = child(cuda12, Map.of(), "-Dadjoint.cuda.cudnn=require", "conv");
        assertTrue(absent.output.contains("error: cuda conv2d: -Dadjoint.cuda.cudnn=require, but cuDNN is not used:"
                + " im2col + cuBLAS (cuDNN: libcudnn.so.9 could not be loaded"), absent.output);
        Result present = child(cuda13, Map.of(), "-Dadjoint.cuda.cudnn=require", "conv");
        assertTrue(present.output.contains("convolution: cuDNN 9.1.0 (libcudnn.so.9, found by the dynamic linker),"
                + " required\nrepeatable: true\nfallbacks: 0\n"), present.output);
        Result unknown = child(cuda13, Map.of(), "-Dadjoint.cuda.cudnn=maybe", "probe");
        assertTrue(unknown.output.contains("-Dadjoint.cuda.cudnn=maybe is none of true, false, require"), unknown.output);
    }

    @Test
    void anAlgorithmWhoseWorkspaceIsAbsurdOrDoesNotFitMakesWayForTheNext() throws IOException, InterruptedException {
        // The forward list starts with SIZE_MAX and 2^40 bytes, the input gradient's with a query answering 2^63:
        // passed over whatever the memory.
        Result fits = child(cuda13, Map.of("FAKE_CUDNN_TRACE", "1", "FAKE_CUDNN_BIG_WORKSPACE", String.valueOf(1 << 20)),
                "conv");
        assertTrue(fits.output.contains("fake cudnn: cudnnConvolutionForward algorithm 2, workspace 1048576 bytes"),
                fits.output);
        assertTrue(fits.output.contains("fake cudnn: cudnnConvolutionBackwardData algorithm 1,"), fits.output);
        assertTrue(!fits.output.contains("algorithm 6,") && !fits.output.contains("algorithm 7,")
                && !fits.output.contains("algorithm 5,"), fits.output);
        // 256 MiB is within the limit, but not within a 64 MiB device: algorithm 0 runs instead, uncounted.
        Result tight = child(cuda13, Map.of("FAKE_CUDNN_TRACE", "1", "FAKE_CUDNN_BIG_WORKSPACE", String.valueOf(256 << 20),
                "FAKE_CUDA_CAPACITY", String.valueOf(64 << 20)), "conv");
        assertTrue(tight.output.contains("fake cudnn: cudnnConvolutionForward algorithm 0,")
                && !tight.output.contains("cudnnConvolutionForward algorithm 2,"), tight.output);
        assertTrue(tight.output.contains("\nrepeatable: true\nfallbacks: 0\n"), tight.output);
    }

    @Test
    void aShapeKeepsTheAlgorithmThatRanFirstAndFallsBackCountedWhenItsWorkspaceDoesNotFit()
            throws IOException, InterruptedException {
        Result result = child(cuda13, Map.of("FAKE_CUDNN_TRACE", "1", "FAKE_CUDNN_BIG_WORKSPACE", String.valueOf(48 << 20),
                "FAKE_CUDA_CAPACITY", String.valueOf(64 << 20)), "settle");
        assertEquals(0, result.exitCode, result.output);
        String afterFirst = result.output.substring(result.output.indexOf("first call done"));
        // Algorithm 0 would fit the second time, but the shape took algorithm 2 first: the im2col path runs, counted.
        assertTrue(!afterFirst.contains("cudnnConvolutionForward algorithm"), result.output);
        assertTrue(afterFirst.contains("\nfallbacks: 1\n"), result.output);
        assertTrue(result.output.contains("chosen on its first run, does not fit in device memory now (algorithm 2 needs "
                + (48 << 20) + " bytes)"), result.output);
        assertTrue(!result.output.contains("cudnnConvolutionForward algorithm 0,"), result.output);
    }

    @Test
    void cudnnDescriptorsAreCachedPerShapeAndTheOldestDestroyed() throws IOException, InterruptedException {
        Result result = child(cuda13, Map.of(), "cache");
        assertEquals(0, result.exitCode, result.output);
        // Per shape a tensor, a filter and an output descriptor, and one convolution descriptor per direction used.
        // The trial's shape is cached too (3 + 3): 6 + 15.
        assertTrue(result.output.contains("after 3 shapes, twice: 21 live descriptors\n"), result.output);
        assertTrue(result.output.contains("after 80 shapes: " + 4 * ForeignCudnn.CACHE_CAPACITY + " live descriptors\n"),
                result.output);
        // Closing twice is safe, and a closed binding refuses to prepare.
        assertTrue(result.output.contains(" shapes; after: " + ForeignCudnn.CACHE_CAPACITY
                + " shapes\nafter close: cuda: cuDNN is closed\n"), result.output);
    }

    @Test
    void withCuda12LibrariesJcudaIsChosen() throws IOException, InterruptedException {
        // No cuDNN in that folder: the convolution part, which names the folders searched, is checked elsewhere.
        String cudnnAbsent = "; convolution: cuDNN checked on first convolution";
        assertEquals("INFO: Adjoint CUDA backend on device 0, Fake GPU (compute capability 9.0, 2 SMs, driver 13.0,"
                + " NVRTC 12.0): cuBLAS through JCublas2 (libcublas.so.12); NVRTC through JNvrtc (libnvrtc.so.12); TF32 off;"
                + " device memory from cuMemAlloc" + cudnnAbsent,
                beforeItsEnd(logLine(child(cuda12, Map.of("FAKE_CUDA_NO_MEMORY_POOLS", "1"), "probe")), cudnnAbsent));
        assertEquals("INFO: Adjoint CUDA backend on device 0, Fake GPU (compute capability 9.0, 2 SMs, driver 13.0,"
                + " NVRTC 12.0): cuBLAS through java.lang.foreign (libcublas.so.12) (forced by -Dadjoint.cuda.bindings=ffm); NVRTC through"
                + " java.lang.foreign (libnvrtc.so.12) (forced by -Dadjoint.cuda.bindings=ffm); TF32 off;"
                + " device memory from cuMemAlloc (forced by -Dadjoint.cuda.memoryPool=false)" + cudnnAbsent,
                beforeItsEnd(logLine(child(cuda12, Map.of(), "-Dadjoint.cuda.bindings=ffm", "-Dadjoint.cuda.memoryPool=false",
                        "probe")), cudnnAbsent));
    }

    /** The line up to and with {@code marker}, or the whole line when it lacks the marker. */
    private static String beforeItsEnd(String line, String marker) {
        int at = line.indexOf(marker);
        return at < 0 ? line : line.substring(0, at + marker.length());
    }

    /** The convolution path the probe's first convolution logged, after loading cuDNN or failing to. */
    private static String convolutionOf(Result result) {
        assertEquals(0, result.exitCode, result.output);
        String prefix = "INFO: Adjoint CUDA convolutions on device 0: ";
        List<String> lines = result.output.lines().filter(l -> l.startsWith(prefix)).toList();
        assertEquals(1, lines.size(), result.output);
        String path = lines.get(0).substring(prefix.length());
        assertTrue(result.output.contains("\nconvolution: " + path + "\n"), result.output);
        return path;
    }

    private static String logLine(Result result) {
        assertEquals(0, result.exitCode, result.output);
        assertTrue(result.output.contains("reason: (available)"), result.output);
        List<String> lines = result.output.lines().filter(l -> l.contains("Adjoint CUDA backend on")).toList();
        assertEquals(1, lines.size(), result.output);
        return lines.get(0);
    }

    @Test
    void tf32IsOffUnlessAskedFor() throws IOException, InterruptedException {
        // The fake cuBLAS refuses any math mode but the one the environment says to expect.
        for (Path folder : List.of(cuda13, cuda12)) {
            Result on = child(folder, Map.of("FAKE_CUBLAS_EXPECT_MODE", "3"), "-Dadjoint.cuda.tf32=true", "probe");
            assertTrue(on.output.contains("reason: (available)") && on.output.contains("TF32 allowed"), on.output);
            Result off = child(folder, Map.of("FAKE_CUBLAS_EXPECT_MODE", "3"), "probe");
            assertTrue(off.output.contains("cublasSetMathMode failed: CUBLAS_STATUS_INVALID_VALUE"), off.output);
        }
    }

    @Test
    void forcingJcudaWithoutCuda12SaysSo() throws IOException, InterruptedException {
        Result result = child(cuda13, Map.of(), "-Dadjoint.cuda.bindings=jcuda", "probe");
        assertTrue(result.output.contains("reason: cuBLAS does not load through the JCuda binding that"
                + " -Dadjoint.cuda.bindings=jcuda asks for: "), result.output);
    }

    @Test
    void aCompilerErrorCarriesTheLog() throws IOException, InterruptedException {
        for (Path folder : List.of(cuda13, cuda12)) {
            Result result = child(folder, Map.of("FAKE_NVRTC_EXPECT_OPTION", "--gpu-architecture=compute_80"), "compile");
            assertTrue(result.output.contains("cuda: NVRTC could not compile adjoint.cu with"
                    + " [--gpu-architecture=compute_90]: NVRTC_ERROR_COMPILATION\nfake nvrtc: unexpected options"),
                    result.output);
        }
    }

    @Test
    void theKernelsLoadAsACubinForTheDevicesArchitecture() throws IOException, InterruptedException {
        // JNvrtc with CUDA 12's names, java.lang.foreign with both.
        for (Path folder : List.of(cuda13, cuda12)) {
            assertEquals("CUBIN for sm_90", kernelForm(child(folder, Map.of(), "kernels")));
        }
        assertEquals("CUBIN for sm_90", kernelForm(child(cuda12, Map.of(), "-Dadjoint.cuda.bindings=ffm", "kernels")));
    }

    @Test
    void anNvrtcThatRejectsTheRealArchitectureFallsBackToPtx() throws IOException, InterruptedException {
        for (Path folder : List.of(cuda13, cuda12)) {
            assertEquals("PTX for compute_90 (CUBIN not used: cuda: NVRTC could not compile adjoint.cu with"
                    + " [--gpu-architecture=sm_90]: NVRTC_ERROR_INVALID_OPTION)",
                    kernelForm(child(folder, Map.of("FAKE_NVRTC_REJECT_SM", "1"), "kernels")));
        }
    }

    @Test
    void anNvrtcWithoutTheCubinEntryPointsFallsBackToPtx() throws IOException, InterruptedException {
        assertEquals("PTX for compute_90 (CUBIN not used: libnvrtc.so.13 has no symbol nvrtcGetCUBINSize)",
                kernelForm(child(ptxOnly, Map.of(), "kernels")));
    }

    @Test
    void aDriverThatRefusesTheCubinGetsPtx() throws IOException, InterruptedException {
        for (Path folder : List.of(cuda13, cuda12)) {
            assertEquals("PTX for compute_90 (CUBIN not used: cuModuleLoadData refused the CUBIN:"
                    + " CUDA_ERROR_NO_BINARY_FOR_GPU)",
                    kernelForm(child(folder, Map.of("FAKE_CUDA_REJECT_CUBIN", "1"), "kernels")));
        }
    }

    /** The kernels compiled and ran; the FINE line says in which form they were loaded. */
    private static String kernelForm(Result result) {
        assertEquals(0, result.exitCode, result.output);
        assertTrue(result.output.contains("\ncompiled\n"), result.output);
        List<String> lines = result.output.lines().filter(l -> l.startsWith("FINE: Adjoint CUDA kernels loaded as "))
                .toList();
        assertEquals(1, lines.size(), result.output);
        String line = lines.get(0).substring("FINE: Adjoint CUDA kernels loaded as ".length());
        assertTrue(line.matches(".*, compiled in [0-9]+ ms"), line);
        return line.substring(0, line.lastIndexOf(", compiled in "));
    }

    @Test
    void outOfDeviceMemoryEmptiesTheCacheRetriesAndThenNamesTheSizes() throws IOException, InterruptedException {
        Result result = child(cuda13, Map.of("FAKE_CUDA_CAPACITY", String.valueOf(64L << 20)), "memory");
        assertEquals(0, result.exitCode, result.output);
        assertTrue(result.output.contains("retry: ok"), result.output);
        assertTrue(result.output.contains("oom: cuda: out of device memory allocating 67108864 bytes (a block of 67108864):"),
                result.output);
    }

    /**
     * Every GPU suite (the backend against the CPU, and the engine's conformance suites) on the
     * fake device, once with each pair of bindings, with a small reflective runner
     * ({@link SuiteRunner}: plain and parameterised tests, {@value #FAKE_PROGRAMS} random
     * programs). A failure here is either the backend's or the fake kernels' arithmetic (which
     * follows the real kernels' contracts, not their every rounding): the output names the test.
     */
    @Test
    void theGpuSuitesPassOnTheFakeDevice() throws IOException, InterruptedException {
        List<String> suites = List.of("CudaVersusCpuTest", "CudaTensorOpsTest", "CudaAutodiffTest", "CudaBackwardTest",
                "CudaCheckpointTest", "CudaErrorTest", "CudaGradientTest", "CudaModuleTest", "CudaNnTest", "CudaOptimTest",
                "CudaWorkedExamplesTest", "CudaAnomalyTest", "CudaThreadingTest", "CudaVersionTest",
                "CudaRandomProgramTest", "CudaCoreTest", "CudaCoreOnlyNnTest", "CudaConvolutionOpsTest",
                "CudaStructureTest", "CudaAttentionTest", "CudaNormalizationTest", "CudaGptTest", "CudaPoolingTest",
                "CudaConvolutionTest", "CudaCnnModuleTest", "CudnnVersusIm2colTest");
        List<String> arguments = new ArrayList<>(List.of("-Dadjoint.test.programs=" + FAKE_PROGRAMS, "suite"));
        suites.forEach(suite -> arguments.add((suite.startsWith("Cudnn") ? "org.adjoint.cuda." : "org.adjoint.cuda.gpu.")
                + suite));
        for (Path folder : List.of(cuda13, cuda12)) {
            // CUDA 13's run takes device memory from stream-ordered pools, as an H100 does, and
            // convolves through cuDNN; the CUDA 12 one takes it from cuMemAlloc, as a driver without
            // pools would, and has no cuDNN: its convolutions take the im2col path.
            Map<String, String> environment = folder.equals(cuda12) ? Map.of("FAKE_CUDA_NO_MEMORY_POOLS", "1") : Map.of();
            Result result = child(folder, environment, arguments.toArray(String[]::new));
            assertEquals(0, result.exitCode, result.output);
            // Every convolution of the CUDA 13 run went through cuDNN: the trial passed, nothing fell back.
            assertTrue(!result.output.contains("WARNING: Adjoint CUDA backend on device"), result.output);
            assertEquals(suites.size(), result.output.lines().filter(l -> l.matches("passed=[1-9][0-9]* failed=0")).count(),
                    result.output);
        }
    }

    private static Result child(Path libraries, Map<String, String> environment, String... arguments)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("--add-modules=jdk.incubator.vector");
        for (String argument : arguments) {
            if (argument.startsWith("-D")) {
                command.add(argument);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Child.class.getName());
        for (String argument : arguments) {
            if (!argument.startsWith("-D")) {
                command.add(argument);
            }
        }
        Map<String, String> variables = new HashMap<>(environment);
        variables.put("LD_LIBRARY_PATH", libraries.toString());
        return run(command, variables);
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(List<String> command, Map<String, String> environment)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return new Result(-1, e.toString());
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(300, TimeUnit.SECONDS), "child did not finish: " + command);
        return new Result(process.exitValue(), output);
    }

    /** Runs in the child JVM, where the fake libraries are on LD_LIBRARY_PATH. */
    public static final class Child {
        private Child() {
        }

        /**
         * Entry point of the child JVM.
         *
         * @param args the mode, then its arguments
         * @throws Throwable when a step fails unexpectedly
         */
        public static void main(String[] args) throws Throwable {
            CudaBackend cuda = new CudaBackend();
            switch (args[0]) {
                case "probe" -> {
                    System.out.println("reason: " + cuda.unavailableReason().orElse("(available)"));
                    if (cuda.unavailableReason().isEmpty()) {
                        System.out.println("convolution: " + cuda.convolutionPath());
                    }
                }
                case "compile", "kernels" -> {
                    if (args[0].equals("kernels")) {
                        showFineLog();
                    }
                    try {
                        cuda.unary(org.adjoint.backend.UnaryOp.NEG, 0, cuda.upload(new float[] {1}), cuda.allocate(1));
                        System.out.println("compiled");
                    } catch (IllegalStateException e) {
                        System.out.println(e.getMessage());
                    }
                }
                case "memory" -> memory(cuda);
                case "conv" -> convolutions(cuda);
                case "settle" -> settledAlgorithm(cuda);
                case "cache" -> descriptorCache(cuda);
                case "suite" -> {
                    boolean passed = true;
                    for (int i = 1; i < args.length; i++) {
                        System.out.println("== " + args[i]);
                        passed &= new SuiteRunner(Class.forName(args[i])).run();
                    }
                    System.exit(passed ? 0 : 1);
                }
                default -> throw new IllegalArgumentException(args[0]);
            }
        }

        /** Strongly held: java.util.logging keeps loggers only weakly. */
        private static final Logger BACKEND_LOG = Logger.getLogger("org.adjoint.cuda.CudaBackend");

        private static void showFineLog() {
            ConsoleHandler handler = new ConsoleHandler();
            handler.setLevel(Level.FINE);
            BACKEND_LOG.setUseParentHandlers(false);
            BACKEND_LOG.addHandler(handler);
            BACKEND_LOG.setLevel(Level.FINE);
        }

        /** One small grouped, strided, dilated convolution in each direction, twice: are the bits the same? */
        private static void convolutions(CudaBackend cuda) {
            System.out.println("convolution: " + cuda.convolutionPath());
            ConvGeometry geometry = new ConvGeometry(4, 9, 8, 3, 2, 2, 2, 2);
            int images = 5;
            int outputs = 6;
            int groups = 2;
            float[] x = ramp(images * (int) geometry.imageSize(), 0.37f);
            float[] w = ramp(outputs * (int) (geometry.columnRows() / groups), 0.11f);
            float[] dy = ramp(images * outputs * (int) geometry.columnCols(), 0.23f);
            try {
                boolean repeatable = true;
                StringBuilder bits = new StringBuilder();
                for (int direction = 0; direction < 3; direction++) {
                    float[] first = convolve(cuda, direction, geometry, images, outputs, groups, x, w, dy);
                    float[] again = convolve(cuda, direction, geometry, images, outputs, groups, x, w, dy);
                    repeatable &= java.util.Arrays.equals(first, again);
                    bits.append(' ').append(java.util.Arrays.hashCode(again));
                }
                System.out.println("repeatable: " + repeatable);
                System.out.println("fallbacks: " + cuda.cudnnFallbacks());
                System.out.println("result bits:" + bits);
            } catch (IllegalStateException e) {
                System.out.println("error: " + e.getMessage());
            }
        }

        /**
         * The forward pass of one shape, then again while 32 MiB of the 64 MiB fake device are
         * held: the algorithm that ran first has no room for its workspace the second time.
         */
        private static void settledAlgorithm(CudaBackend cuda) {
            ConvGeometry geometry = new ConvGeometry(4, 9, 8, 3, 2, 2, 2, 2);
            float[] x = ramp(5 * (int) geometry.imageSize(), 0.37f);
            float[] w = ramp(6 * (int) (geometry.columnRows() / 2), 0.11f);
            float[] dy = ramp(5 * 6 * (int) geometry.columnCols(), 0.23f);
            convolve(cuda, 0, geometry, 5, 6, 2, x, w, dy);
            System.out.println("first call done");
            Buffer held = cuda.allocate(8 << 20);
            convolve(cuda, 0, geometry, 5, 6, 2, x, w, dy);
            System.out.println("fallbacks: " + cuda.cudnnFallbacks());
            cuda.release(held);
        }

        /** Values over several binades, so that adding them in another order shows in the bits. */
        private static float[] ramp(int n, float step) {
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = (float) (Math.sin(i * step) * Math.pow(10, i % 5 - 2));
            }
            return values;
        }

        private static float[] convolve(CudaBackend cuda, int direction, ConvGeometry geometry, int images, int outputs,
                                        int groups, float[] x, float[] w, float[] dy) {
            Buffer result = cuda.allocate(direction == 0 ? dy.length : direction == 1 ? x.length : w.length);
            switch (direction) {
                case 0 -> cuda.conv2d(cuda.upload(x), cuda.upload(w), geometry, images, outputs, groups, result);
                case 1 -> cuda.conv2dInputGrad(cuda.upload(dy), cuda.upload(w), geometry, images, outputs, groups, result);
                default -> cuda.conv2dWeightGrad(cuda.upload(x), cuda.upload(dy), geometry, images, outputs, groups, result);
            }
            return cuda.download(result);
        }

        /**
         * Forward and input gradient over 3 shapes twice (cached: 3 descriptors each, and one
         * convolution descriptor per direction), then the forward pass over 80 more: only the
         * newest {@link ForeignCudnn#CACHE_CAPACITY} shapes keep descriptors. The count is the
         * fake library's own.
         */
        @SuppressWarnings("restricted") // the fake library's counter; the child runs with native access granted
        private static void descriptorCache(CudaBackend cuda) throws Throwable {
            MethodHandle live = Linker.nativeLinker().downcallHandle(
                    SymbolLookup.libraryLookup("libcudnn.so.9", Arena.global()).find("fakeCudnnLiveDescriptors").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG));
            for (int round = 0; round < 2; round++) {
                for (int images = 1; images <= 3; images++) {
                    ConvGeometry geometry = new ConvGeometry(2, 5, 5, 3, 3, 1, 1, 1);
                    float[] x = new float[images * 50];
                    float[] dy = new float[images * 3 * 25];
                    convolve(cuda, 0, geometry, images, 3, 1, x, new float[54], dy);
                    convolve(cuda, 1, geometry, images, 3, 1, x, new float[54], dy);
                }
            }
            System.out.println("after 3 shapes, twice: " + (long) live.invokeExact() + " live descriptors");
            for (int images = 1; images <= 80; images++) {
                ConvGeometry geometry = new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1);
                convolve(cuda, 0, geometry, images, 1, 1, new float[images * 16], new float[4], new float[images * 9]);
            }
            System.out.println("after 80 shapes: " + (long) live.invokeExact() + " live descriptors");
            heldShapes();
        }

        /** On a handle of its own (the fake takes the stream 0x20): a held shape survives a full cache. */
        private static void heldShapes() {
            CudnnShape.Direction forward = CudnnShape.Direction.FORWARD;
            ForeignCudnn closed;
            try (ForeignCudnn cudnn = ForeignCudnn.open(CudnnLibrary.load(13, null), 0x20, false)) {
                CudnnShape held = CudnnShape.of(new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1), 1, 1, 1);
                ForeignCudnn.Call call = cudnn.prepare(forward, held);
                for (int images = 2; images <= ForeignCudnn.CACHE_CAPACITY + 1; images++) {
                    cudnn.prepare(forward, CudnnShape.of(new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1), images, 1, 1)).close();
                }
                // The held shape is the least recently used: the count says whether it was destroyed.
                int whileOpen = cudnn.cachedShapes();
                call.close();
                cudnn.prepare(forward, CudnnShape.of(new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1), 100, 1, 1)).close();
                System.out.println("while a call is open: " + whileOpen + " shapes; after: " + cudnn.cachedShapes()
                        + " shapes");
                // Closed here and again by try-with-resources: the second close must not destroy the handle twice.
                cudnn.close();
                closed = cudnn;
            }
            try {
                closed.prepare(forward, CudnnShape.of(new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1), 1, 1, 1));
                System.out.println("after close: prepared");
            } catch (IllegalStateException e) {
                System.out.println("after close: " + e.getMessage());
            }
        }

        private static void memory(CudaBackend cuda) {
            int floats = 4 << 20;
            var first = cuda.allocate(floats);
            var second = cuda.allocate(floats);
            cuda.release(first);
            cuda.release(second);
            // 32 MiB cached; 48 MiB more only fits once the cache is given back.
            var big = cuda.allocate(12 << 20);
            System.out.println("retry: " + (cuda.memoryStats().bytesCached() == 0 ? "ok" : cuda.memoryStats()));
            try {
                cuda.allocate(16 << 20);
                System.out.println("oom: none");
            } catch (IllegalStateException e) {
                System.out.println("oom: " + e.getMessage());
            }
            cuda.release(big);
        }
    }
}
