package org.adjoint.cuda;

import static org.adjoint.cuda.FakeCuda.child;
import static org.adjoint.cuda.FakeCuda.convolutionOf;
import static org.adjoint.cuda.FakeCuda.logLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.adjoint.cuda.FakeCuda.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The backend over the fake driver, cuBLAS and NVRTC ({@link FakeCuda}): which binding of
 * cuBLAS and NVRTC is chosen and what the log line says of it, TF32, compiling and loading the
 * kernels, device memory running out, and every GPU suite on the fake device. cuDNN's part is
 * {@link FakeCudnnTest}.
 */
class FakeDriverTest {

    /** Random programs per binding pair: enough to reach every operation, few enough for CI. */
    private static final int FAKE_PROGRAMS = 300;

    @RegisterExtension
    static final FakeCuda fake = new FakeCuda();

    @Test
    void withCuda13LibrariesTheForeignBindingsAreChosenAndTheLineSaysWhy() throws IOException, InterruptedException {
        String line = logLine(child(fake.cuda13(), Map.of(), "probe"));
        assertTrue(line.startsWith("INFO: Adjoint CUDA backend on device 0, Fake GPU (compute capability 9.0, 2 SMs,"
                + " driver 13.0, NVRTC 13.0): cuBLAS through java.lang.foreign (libcublas.so.13), because JCuda's binding did not load ("), line);
        assertTrue(line.contains("libcublas.so.12: cannot open shared object file"), line);
        assertTrue(line.contains("; NVRTC through java.lang.foreign (libnvrtc.so.13), because JCuda's binding did not load"),
                line);
        assertTrue(line.endsWith("; TF32 off; device memory from the driver's stream-ordered pool; convolution: cuDNN"
                + " checked on first convolution"), line);
        assertEquals("cuDNN 9.1.0 (libcudnn.so.9, found by the dynamic linker)", convolutionOf(child(fake.cuda13(), Map.of(),
                "probe")));
    }

    @Test
    void withCuda12LibrariesJcudaIsChosen() throws IOException, InterruptedException {
        // No cuDNN in that folder: the convolution part, which names the folders searched, is checked elsewhere.
        String cudnnAbsent = "; convolution: cuDNN checked on first convolution";
        assertEquals("INFO: Adjoint CUDA backend on device 0, Fake GPU (compute capability 9.0, 2 SMs, driver 13.0,"
                + " NVRTC 12.0): cuBLAS through JCublas2 (libcublas.so.12); NVRTC through JNvrtc (libnvrtc.so.12); TF32 off;"
                + " device memory from cuMemAlloc" + cudnnAbsent,
                beforeItsEnd(logLine(child(fake.cuda12(), Map.of("FAKE_CUDA_NO_MEMORY_POOLS", "1"), "probe")), cudnnAbsent));
        assertEquals("INFO: Adjoint CUDA backend on device 0, Fake GPU (compute capability 9.0, 2 SMs, driver 13.0,"
                + " NVRTC 12.0): cuBLAS through java.lang.foreign (libcublas.so.12) (forced by -Dadjoint.cuda.bindings=ffm); NVRTC through"
                + " java.lang.foreign (libnvrtc.so.12) (forced by -Dadjoint.cuda.bindings=ffm); TF32 off;"
                + " device memory from cuMemAlloc (forced by -Dadjoint.cuda.memoryPool=false)" + cudnnAbsent,
                beforeItsEnd(logLine(child(fake.cuda12(), Map.of(), "-Dadjoint.cuda.bindings=ffm", "-Dadjoint.cuda.memoryPool=false",
                        "probe")), cudnnAbsent));
    }

    /** The line up to and with {@code marker}, or the whole line when it lacks the marker. */
    private static String beforeItsEnd(String line, String marker) {
        int at = line.indexOf(marker);
        return at < 0 ? line : line.substring(0, at + marker.length());
    }

    @Test
    void tf32IsOffUnlessAskedFor() throws IOException, InterruptedException {
        // The fake cuBLAS refuses any math mode but the one the environment says to expect.
        for (Path folder : List.of(fake.cuda13(), fake.cuda12())) {
            Result on = child(folder, Map.of("FAKE_CUBLAS_EXPECT_MODE", "3"), "-Dadjoint.cuda.tf32=true", "probe");
            assertTrue(on.output().contains("reason: (available)") && on.output().contains("TF32 allowed"), on.output());
            Result off = child(folder, Map.of("FAKE_CUBLAS_EXPECT_MODE", "3"), "probe");
            assertTrue(off.output().contains("cublasSetMathMode failed: CUBLAS_STATUS_INVALID_VALUE"), off.output());
        }
    }

    @Test
    void forcingJcudaWithoutCuda12SaysSo() throws IOException, InterruptedException {
        Result result = child(fake.cuda13(), Map.of(), "-Dadjoint.cuda.bindings=jcuda", "probe");
        assertTrue(result.output().contains("reason: cuBLAS does not load through the JCuda binding that"
                + " -Dadjoint.cuda.bindings=jcuda asks for: "), result.output());
    }

    @Test
    void aCompilerErrorCarriesTheLog() throws IOException, InterruptedException {
        for (Path folder : List.of(fake.cuda13(), fake.cuda12())) {
            Result result = child(folder, Map.of("FAKE_NVRTC_EXPECT_OPTION", "--gpu-architecture=compute_80"), "compile");
            assertTrue(result.output().contains("cuda: NVRTC could not compile adjoint.cu with"
                    + " [--gpu-architecture=compute_90]: NVRTC_ERROR_COMPILATION\nfake nvrtc: unexpected options"),
                    result.output());
        }
    }

    @Test
    void theKernelsLoadAsACubinForTheDevicesArchitecture() throws IOException, InterruptedException {
        // JNvrtc with CUDA 12's names, java.lang.foreign with both.
        for (Path folder : List.of(fake.cuda13(), fake.cuda12())) {
            assertEquals("CUBIN for sm_90", kernelForm(child(folder, Map.of(), "kernels")));
        }
        assertEquals("CUBIN for sm_90", kernelForm(child(fake.cuda12(), Map.of(), "-Dadjoint.cuda.bindings=ffm", "kernels")));
    }

    @Test
    void anNvrtcThatRejectsTheRealArchitectureFallsBackToPtx() throws IOException, InterruptedException {
        for (Path folder : List.of(fake.cuda13(), fake.cuda12())) {
            assertEquals("PTX for compute_90 (CUBIN not used: cuda: NVRTC could not compile adjoint.cu with"
                    + " [--gpu-architecture=sm_90]: NVRTC_ERROR_INVALID_OPTION)",
                    kernelForm(child(folder, Map.of("FAKE_NVRTC_REJECT_SM", "1"), "kernels")));
        }
    }

    @Test
    void anNvrtcWithoutTheCubinEntryPointsFallsBackToPtx() throws IOException, InterruptedException {
        assertEquals("PTX for compute_90 (CUBIN not used: libnvrtc.so.13 has no symbol nvrtcGetCUBINSize)",
                kernelForm(child(fake.ptxOnly(), Map.of(), "kernels")));
    }

    @Test
    void aDriverThatRefusesTheCubinGetsPtx() throws IOException, InterruptedException {
        for (Path folder : List.of(fake.cuda13(), fake.cuda12())) {
            assertEquals("PTX for compute_90 (CUBIN not used: cuModuleLoadData refused the CUBIN:"
                    + " CUDA_ERROR_NO_BINARY_FOR_GPU)",
                    kernelForm(child(folder, Map.of("FAKE_CUDA_REJECT_CUBIN", "1"), "kernels")));
        }
    }

    @Test
    void aModuleThatLacksAKernelIsUnloadedAndRefused() throws IOException, InterruptedException {
        // Both forms come from the same source, so the PTX is not tried: the error names the kernel.
        Result result = child(fake.cuda13(), Map.of("FAKE_CUDA_NO_FUNCTION", "adam", "FAKE_CUDA_COUNTS", "1"), "compile");
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("cuda: cuModuleGetFunction(adam) in the CUBIN for sm_90 failed:"
                + " CUDA_ERROR_NOT_FOUND"), result.output());
        assertTrue(result.output().lines().anyMatch(l -> l.matches("\\s+1 cuModuleUnload")), result.output());
    }

    @Test
    void aDeviceThatFailsToOpenGivesBackWhatItHeld() throws IOException, InterruptedException {
        // Each failure point, with what was held by then: the retained context, the stream, the
        // first pinned block and its two events, then everything (cuBLAS refused afterwards).
        record Case(Path folder, Map<String, String> environment, List<String> arguments, String reason,
                    Map<String, Integer> releases) {
        }
        List<Case> cases = List.of(
                new Case(fake.cuda13(), Map.of("FAKE_CUDA_FAIL", "cuStreamCreate"), List.of("probe"),
                        "cuda: cuStreamCreate failed: CUDA_ERROR_OUT_OF_MEMORY",
                        Map.of("cuDevicePrimaryCtxRelease", 1)),
                new Case(fake.cuda13(), Map.of("FAKE_CUDA_FAIL", "cuMemAllocHost:2"), List.of("probe"),
                        "cuda: cuMemAllocHost(2097152 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY",
                        Map.of("cuDevicePrimaryCtxRelease", 1, "cuStreamDestroy", 1, "cuMemFreeHost", 1,
                                "cuEventDestroy", 2)),
                new Case(fake.cuda13(), Map.of(), List.of("-Dadjoint.cuda.bindings=jcuda", "probe"),
                        "cuBLAS does not load through the JCuda binding",
                        Map.of("cuDevicePrimaryCtxRelease", 1, "cuStreamDestroy", 1, "cuMemFreeHost", 2,
                                "cuEventDestroy", 2 + 32)),
                new Case(fake.noNvrtc(), Map.of(), List.of("probe"), "NVRTC does not load through either binding",
                        Map.of("cuDevicePrimaryCtxRelease", 1, "cuStreamDestroy", 1, "cuMemFreeHost", 2,
                                "cuEventDestroy", 2 + 32)));
        for (Case c : cases) {
            Map<String, String> environment = new HashMap<>(c.environment());
            environment.put("FAKE_CUDA_COUNTS", "1");
            Result result = child(c.folder(), environment, c.arguments().toArray(String[]::new));
            assertEquals(0, result.exitCode(), result.output());
            assertTrue(result.output().contains("reason: ") && result.output().contains(c.reason()), result.output());
            // cuBLAS had opened (through java.lang.foreign) only where NVRTC was what failed.
            long handlesDestroyed = result.output().lines().filter(l -> l.equals("fake cuBLAS: cublasDestroy_v2")).count();
            assertEquals(c.folder().equals(fake.noNvrtc()) ? 1 : 0, handlesDestroyed, result.output());
            for (var release : c.releases().entrySet()) {
                assertTrue(result.output().lines().anyMatch(l -> l.matches("\\s+" + release.getValue() + " "
                        + release.getKey())), release + " in " + result.output());
            }
        }
    }

    @Test
    void aSettingThatTurnsTheDeviceOffIsSaidAtWarningAndBadValuesAreNamed() throws IOException, InterruptedException {
        // A missing GPU is passed over quietly; a typo in a -Dadjoint.cuda.* setting is not.
        for (var bad : List.of(List.of("-Dadjoint.cuda.device=cuda:1", "-Dadjoint.cuda.device=cuda:1 is not a device "
                + "ordinal"), List.of("-Dadjoint.cuda.tf32=yes", "-Dadjoint.cuda.tf32=yes is neither true nor false"),
                List.of("-Dadjoint.cuda.memoryPool=off", "-Dadjoint.cuda.memoryPool=off is neither true nor false"),
                List.of("-Dadjoint.cuda.cudnn=ture", "-Dadjoint.cuda.cudnn=ture is none of true, false, require"),
                List.of("-Dadjoint.cuda.libraryPath=/no/such/cuda/lib",
                        "-Dadjoint.cuda.libraryPath=/no/such/cuda/lib names /no/such/cuda/lib, which is not a folder"))) {
            Result result = child(fake.cuda13(), Map.of(), bad.get(0), "choose");
            assertEquals(0, result.exitCode(), result.output());
            assertTrue(result.output().contains("WARNING: cuda is not used: ") && result.output().contains(bad.get(1)),
                    result.output());
        }
        // A reason that only suggests a setting (no NVRTC here: "add its folder to ...") is no warning.
        Result quiet = child(fake.noNvrtc(), Map.of(), "choose");
        assertTrue(quiet.output().contains("chosen: cpu") && !quiet.output().contains("is not used"), quiet.output());
        // Spelled in any case, the switches are read as meant.
        assertEquals("chosen: cuda", child(fake.cuda13(), Map.of(), "-Dadjoint.cuda.memoryPool=FALSE", "choose")
                .output().lines().filter(l -> l.startsWith("chosen") || l.startsWith("failed")).findFirst().orElse(""));
    }

    /** The kernels compiled and ran; the FINE line says in which form they were loaded. */
    private static String kernelForm(Result result) {
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("\ncompiled\n"), result.output());
        List<String> lines = result.output().lines().filter(l -> l.startsWith("FINE: Adjoint CUDA kernels loaded as "))
                .toList();
        assertEquals(1, lines.size(), result.output());
        String line = lines.get(0).substring("FINE: Adjoint CUDA kernels loaded as ".length());
        assertTrue(line.matches(".*, compiled in [0-9]+ ms"), line);
        return line.substring(0, line.lastIndexOf(", compiled in "));
    }

    @Test
    void outOfDeviceMemoryEmptiesTheCacheRetriesAndThenNamesTheSizes() throws IOException, InterruptedException {
        Result result = child(fake.cuda13(), Map.of("FAKE_CUDA_CAPACITY", String.valueOf(64L << 20)), "memory");
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("retry: ok"), result.output());
        assertTrue(result.output().contains("oom: cuda: out of device memory allocating 67108864 bytes (a block of 67108864):"),
                result.output());
    }

    /**
     * Every GPU suite (the backend against the CPU, and the engine's conformance suites) on the
     * fake device, once with each pair of bindings, with a small reflective runner
     * ({@link SuiteRunner}: plain and parameterised tests, {@value #FAKE_PROGRAMS} random
     * programs and as many recipe programs). A failure here is either the backend's or the fake kernels' arithmetic (which
     * follows the real kernels' contracts, not their every rounding): the output names the test.
     */
    @Test
    void theGpuSuitesPassOnTheFakeDevice() throws IOException, InterruptedException {
        List<String> suites = List.of("CudaVersusCpuTest", "CudaTensorOpsTest", "CudaAutodiffTest", "CudaBackwardTest",
                "CudaCheckpointTest", "CudaErrorTest", "CudaGradientTest", "CudaModuleTest", "CudaNnTest", "CudaOptimTest",
                "CudaWorkedExamplesTest", "CudaAnomalyTest", "CudaThreadingTest", "CudaVersionTest",
                "CudaRandomProgramTest", "CudaCoreTest", "CudaCoreOnlyNnTest", "CudaConvolutionOpsTest",
                "CudaStructureTest", "CudaAttentionTest", "CudaNormalizationTest", "CudaGptTest", "CudaPoolingTest",
                "CudaConvolutionTest", "CudaCnnModuleTest", "CudnnVersusIm2colTest", "CudaConvActivationTest",
                "CudaConvMaxPoolTest", "CudaRecipeTest", "CudaFusedAdamTest", "CudaGatheredAccumulationTest", "CudaClippingTest",
                "CudaScatterTest", "CudaHeadsAttentionTest");
        List<String> arguments = new ArrayList<>(List.of("-Dadjoint.test.programs=" + FAKE_PROGRAMS,
                "-Dadjoint.test.recipes=" + FAKE_PROGRAMS, "suite"));
        suites.forEach(suite -> arguments.add((suite.startsWith("Cudnn") ? "org.adjoint.cuda." : "org.adjoint.cuda.gpu.")
                + suite));
        for (Path folder : List.of(fake.cuda13(), fake.cuda12())) {
            // CUDA 13's run takes device memory from stream-ordered pools, as an H100 does, and
            // convolves through cuDNN; the CUDA 12 one takes it from cuMemAlloc, as a driver without
            // pools would, and has no cuDNN: its convolutions take the im2col path.
            Map<String, String> environment = folder.equals(fake.cuda12()) ? Map.of("FAKE_CUDA_NO_MEMORY_POOLS", "1") : Map.of();
            Result result = child(folder, environment, arguments.toArray(String[]::new));
            assertEquals(0, result.exitCode(), result.output());
            // Every convolution of the CUDA 13 run went through cuDNN: the trial passed, nothing fell back.
            assertTrue(!result.output().contains("WARNING: Adjoint CUDA backend on device"), result.output());
            assertEquals(suites.size(), result.output().lines().filter(l -> l.matches("passed=[1-9][0-9]* failed=0")).count(),
                    result.output());
        }
    }
}
