package org.adjoint.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Compiles the kernels to PTX with {@code nvcc}, which needs no GPU: the run-time NVRTC
 * compile should then meet no error either, and every entry point must keep its C name.
 */
class NvccCompileTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(");

    @BeforeAll
    static void requireNvcc() {
        RequiredTool.assumeOnPath("nvcc", "the PTX compile of the kernels");
    }

    /** Turing (the oldest architecture the backend targets) and Hopper. */
    @ParameterizedTest
    @ValueSource(strings = {"compute_75", "compute_90"})
    void compilesWithoutWarningsAndKeepsEveryKernelName(String architecture, @TempDir Path directory) throws IOException {
        Files.writeString(directory.resolve("adjoint.cu"), CudaKernelSource.source(), StandardCharsets.UTF_8);
        ExternalTool.Result result = ExternalTool.run(directory, null, TIMEOUT, List.of(
                "nvcc", "-ptx", "-arch=" + architecture, "-Werror", "all-warnings", "-o", "out.ptx", "adjoint.cu"));
        assertEquals(0, result.exitCode(), () -> "nvcc -ptx -arch=" + architecture + " failed:\n" + result.output());
        assertTrue(result.output().isBlank(), () -> "nvcc printed:\n" + result.output());

        String ptx = Files.readString(directory.resolve("out.ptx"), StandardCharsets.UTF_8);
        List<String> entries = new ArrayList<>();
        Matcher entry = ENTRY.matcher(ptx);
        while (entry.find()) {
            entries.add(entry.group(1));
        }
        assertEquals(CudaKernelSource.kernelNames(), entries, "the PTX entry points, unmangled and in source order");
    }
}
