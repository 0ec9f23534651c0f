package org.adjoint.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
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

import org.adjoint.cuda.internal.DriverLibrary;
import org.adjoint.kernels.cuda.RequiredTool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole backend on the CPU, over stand-ins for {@code libcuda.so.1}, cuBLAS and NVRTC (C
 * sources under {@code src/test/resources/org/adjoint/cuda/fake}, built here with {@code gcc},
 * once under CUDA 13's library names and once under CUDA 12's, with its symbol versions):
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
        assertTrue(line.endsWith("; TF32 off; device memory from the driver's stream-ordered pool"), line);
    }

    @Test
    void withCuda12LibrariesJcudaIsChosen() throws IOException, InterruptedException {
        assertEquals("INFO: Adjoint CUDA backend on device 0, Fake GPU (compute capability 9.0, 2 SMs, driver 13.0,"
                + " NVRTC 12.0): cuBLAS through JCublas2 (libcublas.so.12); NVRTC through JNvrtc (libnvrtc.so.12); TF32 off;"
                + " device memory from cuMemAlloc",
                logLine(child(cuda12, Map.of("FAKE_CUDA_NO_MEMORY_POOLS", "1"), "probe")));
        assertEquals("INFO: Adjoint CUDA backend on device 0, Fake GPU (compute capability 9.0, 2 SMs, driver 13.0,"
                + " NVRTC 12.0): cuBLAS through java.lang.foreign (libcublas.so.12) (forced by -Dadjoint.cuda.bindings=ffm); NVRTC through"
                + " java.lang.foreign (libnvrtc.so.12) (forced by -Dadjoint.cuda.bindings=ffm); TF32 off;"
                + " device memory from cuMemAlloc (forced by -Dadjoint.cuda.memoryPool=false)",
                logLine(child(cuda12, Map.of(), "-Dadjoint.cuda.bindings=ffm", "-Dadjoint.cuda.memoryPool=false", "probe")));
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
                "CudaStructureTest", "CudaAttentionTest", "CudaNormalizationTest", "CudaGptTest", "CudaPoolingTest");
        List<String> arguments = new ArrayList<>(List.of("-Dadjoint.test.programs=" + FAKE_PROGRAMS, "suite"));
        suites.forEach(suite -> arguments.add("org.adjoint.cuda.gpu." + suite));
        for (Path folder : List.of(cuda13, cuda12)) {
            // CUDA 13's run takes device memory from stream-ordered pools, as an H100 does; the
            // CUDA 12 one from cuMemAlloc, as a driver without pools would.
            Map<String, String> environment = folder.equals(cuda12) ? Map.of("FAKE_CUDA_NO_MEMORY_POOLS", "1") : Map.of();
            Result result = child(folder, environment, arguments.toArray(String[]::new));
            assertEquals(0, result.exitCode, result.output);
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
         * @throws Exception when a step fails unexpectedly
         */
        public static void main(String[] args) throws Exception {
            CudaBackend cuda = new CudaBackend();
            switch (args[0]) {
                case "probe" -> System.out.println("reason: " + cuda.unavailableReason().orElse("(available)"));
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
