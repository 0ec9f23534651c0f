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
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.adjoint.cuda.internal.DriverLibrary;
import org.adjoint.kernels.cuda.RequiredTool;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The whole backend on the CPU, over stand-ins for {@code libcuda.so.1}, cuBLAS, NVRTC and
 * cuDNN (C sources under {@code src/test/resources/org/adjoint/cuda/fake}, built here with
 * {@code gcc}, once under CUDA 13's library names, with cuDNN 9 beside them, and once under
 * CUDA 12's, with its symbol versions and without cuDNN, so that convolutions take each path):
 * device memory is host memory and kernels are plain C loops with the kernels' parameter
 * lists. Each check runs a child JVM ({@link FakeCudaChild}) with one folder of fakes on
 * {@code LD_LIBRARY_PATH}. This runs every JCuda driver call, both bindings of cuBLAS and
 * NVRTC (JCublas2 and JNvrtc, and {@code java.lang.foreign}) and the choice between them, the
 * kernels' parameter layout and launch shapes, pinned staging and the allocator as a GPU would
 * see them, and the GPU suites on top ({@link FakeDriverTest}), and cuDNN's loading, trial and
 * fallbacks ({@link FakeCudnnTest}). It cannot check the real kernels, the real libraries or
 * asynchrony (the fake runs everything at once); the {@code gpu} profile does.
 *
 * <p>A test class registers one as an extension: it builds the fakes in a temporary folder
 * before the class's first test (or skips the class where a real driver is installed or
 * {@code gcc} is missing) and deletes them after its last.
 */
final class FakeCuda implements BeforeAllCallback, AfterAllCallback {

    private static final String FAKES = "/org/adjoint/cuda/fake/";

    private Path temp;
    private Path cuda13;
    private Path cuda12;
    private Path ptxOnly;
    private Path noNvrtc;
    private Path cudnnFolder;
    private Path cudnn12Folder;

    /**
     * CUDA 13's library names: JCuda's JNI libraries do not load, the java.lang.foreign bindings
     * are used; cuDNN 9 beside them.
     */
    Path cuda13() {
        return cuda13;
    }

    /** CUDA 12's names and symbol versions: JCublas2 and JNvrtc load; no cuDNN. */
    Path cuda12() {
        return cuda12;
    }

    /** CUDA 13's names, with an NVRTC that lacks nvrtcGetCUBINSize and nvrtcGetCUBIN. */
    Path ptxOnly() {
        return ptxOnly;
    }

    /** The driver and CUDA 13's cuBLAS, but no NVRTC: the device cannot open. */
    Path noNvrtc() {
        return noNvrtc;
    }

    /** cuDNN alone, in a folder on no search path (as PyTorch's wheels keep it). */
    Path cudnnFolder() {
        return cudnnFolder;
    }

    /** A cuDNN built for CUDA 12, with a part beside it that does not load. */
    Path cudnn12Folder() {
        return cudnn12Folder;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException, InterruptedException {
        assumeTrue(DriverLibrary.locate().isEmpty(), "a real CUDA driver is installed here");
        RequiredTool.assumeOnPath("gcc", "the fake CUDA driver's libraries");
        temp = Files.createTempDirectory("adjoint-fake-cuda");
        cuda13 = Files.createDirectory(temp.resolve("cuda13"));
        cuda12 = Files.createDirectory(temp.resolve("cuda12"));
        ptxOnly = Files.createDirectory(temp.resolve("ptx-only"));
        noNvrtc = Files.createDirectory(temp.resolve("no-nvrtc"));
        for (Path folder : List.of(cuda13, cuda12, ptxOnly, noNvrtc)) {
            compile(temp, "fake_driver.c", folder, "libcuda.so.1", null);
        }
        compile(temp, "fake_cublas.c", cuda13, "libcublas.so.13", null);
        compile(temp, "fake_nvrtc.c", cuda13, "libnvrtc.so.13", null);
        // JCuda's JNI libraries ask for symbols of version libcublas.so.12 / libnvrtc.so.12.
        compile(temp, "fake_cublas.c", cuda12, "libcublas.so.12", "libcublas.so.12");
        compile(temp, "fake_nvrtc.c", cuda12, "libnvrtc.so.12", "libnvrtc.so.12", "-DFAKE_NVRTC_MAJOR=12");
        compile(temp, "fake_cublas.c", ptxOnly, "libcublas.so.13", null);
        compile(temp, "fake_cublas.c", noNvrtc, "libcublas.so.13", null);
        compile(temp, "fake_nvrtc.c", ptxOnly, "libnvrtc.so.13", null, "-DFAKE_NVRTC_NO_CUBIN");
        // cuDNN 9 beside CUDA 13's libraries; the CUDA 12 folder has none (the im2col path).
        compile(temp, "fake_cudnn.c", cuda13, "libcudnn.so.9", null);
        cudnnFolder = Files.createDirectory(temp.resolve("site-packages-nvidia-cudnn-lib"));
        compile(temp, "fake_cudnn.c", cudnnFolder, "libcudnn.so.9", null);
        cudnn12Folder = Files.createDirectory(temp.resolve("cudnn-for-cuda12"));
        compile(temp, "fake_cudnn.c", cudnn12Folder, "libcudnn.so.9", null, "-DFAKE_CUDNN_CUDART_DEFAULT=12080");
        Files.writeString(cudnn12Folder.resolve("libcudnn_broken.so.9"), "not a shared object\n");
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        if (temp == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(temp)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
        temp = null;
    }

    private static void compile(Path temp, String source, Path folder, String library, String symbolVersion,
                                String... defines) throws IOException, InterruptedException {
        Path file = temp.resolve(source);
        try (InputStream in = FakeCuda.class.getResourceAsStream(FAKES + source)) {
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

    /**
     * Runs {@link FakeCudaChild} in a JVM of its own over one folder of fakes.
     *
     * @param libraries   the folder, as {@code LD_LIBRARY_PATH}
     * @param environment more variables (the fakes' switches)
     * @param arguments   {@code -D} system properties for the JVM, then the child's mode and its arguments
     * @return the exit code and the output, standard error included
     * @throws IOException          when the output cannot be read
     * @throws InterruptedException when interrupted while waiting
     */
    static Result child(Path libraries, Map<String, String> environment, String... arguments)
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
        command.add(FakeCudaChild.class.getName());
        for (String argument : arguments) {
            if (!argument.startsWith("-D")) {
                command.add(argument);
            }
        }
        Map<String, String> variables = new HashMap<>(environment);
        variables.put("LD_LIBRARY_PATH", libraries.toString());
        return run(command, variables);
    }

    /**
     * What a process left.
     *
     * @param exitCode its exit code, -1 when it did not start
     * @param output   its standard output and error
     */
    record Result(int exitCode, String output) {
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

    /** The start-up line of a probe that found the backend available. */
    static String logLine(Result result) {
        assertEquals(0, result.exitCode, result.output);
        assertTrue(result.output.contains("reason: (available)"), result.output);
        List<String> lines = result.output.lines().filter(l -> l.contains("Adjoint CUDA backend on")).toList();
        assertEquals(1, lines.size(), result.output);
        return lines.get(0);
    }

    /** The convolution path the probe's first convolution logged, after loading cuDNN or failing to. */
    static String convolutionOf(Result result) {
        assertEquals(0, result.exitCode, result.output);
        String prefix = "INFO: Adjoint CUDA convolutions on device 0: ";
        List<String> lines = result.output.lines().filter(l -> l.startsWith(prefix)).toList();
        assertEquals(1, lines.size(), result.output);
        String path = lines.get(0).substring(prefix.length());
        assertTrue(result.output.contains("\nconvolution: " + path + "\n"), result.output);
        return path;
    }
}
