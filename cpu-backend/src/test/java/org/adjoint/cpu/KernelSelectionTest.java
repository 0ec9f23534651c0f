package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.adjoint.kernels.KernelProvider;
import org.junit.jupiter.api.Test;

/** Which kernels the CPU backend runs, and what it says when it has to fall back. */
class KernelSelectionTest {

    @Test
    void thisTestRunUsesTheExpectedProvider() {
        String expected = System.getProperty("adjoint.expected.kernels", "vector");
        assertEquals(expected, new CpuBackend().kernels().name());
    }

    /** Without --add-modules the JVM cannot read the Vector API: scalar kernels and one warning naming the fix. */
    @Test
    void withoutTheVectorModuleItRunsScalarAndSaysWhyOnce() throws IOException, InterruptedException {
        String output = runJava(List.of());
        assertTrue(output.contains("scalar"), output);
        assertEquals(1, count(output, "Adjoint CPU kernels: scalar, because the module jdk.incubator.vector is not readable"
                + " (run java with --add-modules jdk.incubator.vector for SIMD kernels)"), output);
        assertTrue(output.strip().endsWith("kernels=scalar sum=6.0"), output);
    }

    /**
     * Vectors narrower than 128 bits ({@code -XX:MaxVectorSize=8}): the default width would be
     * the JVM's 64 bits, which no kernel has; scalar kernels and a warning that says why.
     */
    @Test
    void withVectorsNarrowerThan128BitsItRunsScalarAndSaysWhy() throws IOException, InterruptedException {
        String output = runJava(List.of("--add-modules", "jdk.incubator.vector", "-XX:MaxVectorSize=8"));
        assertTrue(output.strip().endsWith("kernels=scalar sum=6.0"), output);
        assertEquals(1, count(output, "Adjoint CPU kernels: scalar, because this JVM's widest vectors are 64 bits"),
                output);
    }

    @Test
    void withTheVectorModuleItRunsVectorSilently() throws IOException, InterruptedException {
        String output = runJava(List.of("--add-modules", "jdk.incubator.vector"));
        assertTrue(output.strip().endsWith("kernels=vector sum=6.0"), output);
        assertEquals(0, count(output, "Adjoint CPU kernels"), output);
    }

    @Test
    void thePropertyForcesAProvider() throws IOException, InterruptedException {
        String output = runJava(List.of("--add-modules", "jdk.incubator.vector", "-Dadjoint.cpu.kernels=scalar"));
        assertTrue(output.strip().endsWith("kernels=scalar sum=6.0"), output);
        assertEquals(1, count(output, "Adjoint CPU kernels: scalar (forced by -Dadjoint.cpu.kernels)"), output);
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    private static String runJava(List<String> jvmOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Probe.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "probe JVM did not finish");
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    /** Runs in the child JVM: one tensor operation, then which kernels did it. */
    public static final class Probe {
        private Probe() {
        }

        /**
         * Entry point of the child JVM.
         *
         * @param args unused
         */
        public static void main(String[] args) {
            float sum = org.adjoint.Tensor.of(new float[] {1, 2, 3}).sum().item();
            System.out.println("kernels=" + KernelProvider.lookup().name() + " sum=" + sum);
        }
    }
}
