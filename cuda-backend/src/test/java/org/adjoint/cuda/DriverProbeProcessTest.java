package org.adjoint.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.adjoint.cuda.internal.DriverLibrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reasons that need a fresh JVM: what the backend says when {@code libcuda.so.1} is there
 * but broken, which makes JCuda's real natives load and fail (the path a machine with a bad
 * driver install takes).
 */
class DriverProbeProcessTest {

    @TempDir
    Path temp;

    @Test
    void aDriverFileThatDoesNotLoadIsReportedAsABrokenDriverWithTheLinkerError() throws IOException, InterruptedException {
        assumeTrue(DriverLibrary.locate().isEmpty(), "this machine has a real libcuda.so.1");
        Files.writeString(temp.resolve("libcuda.so.1"), "");
        String output = runProbe(temp.toString());
        String reason = output.lines().filter(l -> l.startsWith("reason: ")).findFirst().orElse(output);
        assertTrue(reason.startsWith("reason: no CUDA driver: libcuda.so.1 is at " + temp.resolve("libcuda.so.1")
                + " but does not load: "), output);
        assertTrue(reason.contains("libcuda.so.1"), reason);
        assertEquals(1, reason.lines().count(), "one line, not JCuda's nested stack traces");
    }

    @Test
    void withoutTheDriverNoNativeCodeIsLoadedAndNothingIsPrinted() throws IOException, InterruptedException {
        assumeTrue(DriverLibrary.locate().isEmpty(), "this machine has a real libcuda.so.1");
        String output = runProbe(null);
        assertEquals("reason: " + DriverLibrary.notFoundReason(), output.strip(),
                "no warnings: the probe runs without --enable-native-access and must not touch native code");
    }

    private static String runProbe(String ldLibraryPath) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Probe.class.getName()))
                .redirectErrorStream(true);
        builder.environment().remove("LD_LIBRARY_PATH");
        if (ldLibraryPath != null) {
            builder.environment().put("LD_LIBRARY_PATH", ldLibraryPath);
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "probe JVM did not finish");
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    /** Runs in the child JVM: prints the backend's reason. */
    public static final class Probe {
        private Probe() {
        }

        /**
         * Entry point of the child JVM.
         *
         * @param args unused
         */
        public static void main(String[] args) {
            System.out.println("reason: " + new CudaBackend().unavailableReason().orElse("(available)"));
        }
    }
}
