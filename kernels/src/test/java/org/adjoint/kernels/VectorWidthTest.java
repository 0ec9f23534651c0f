package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The kernels' default vector width is never wider than the CPU's: a species the hardware
 * does not have runs in the Vector API's Java fallback, far slower than the scalar provider.
 */
class VectorWidthTest {

    @Test
    void theDefaultIs256BitsOrTheCpusWidthWhereNarrower() {
        assertEquals(128, VectorMicroKernel.defaultBits(128));
        assertEquals(256, VectorMicroKernel.defaultBits(256));
        assertEquals(256, VectorMicroKernel.defaultBits(512));
    }

    /** Only SSE (-XX:UseAVX=0): 128-bit vectors, as on NEON, and the kernels must use 128 bits. */
    @Test
    void aCpuWith128BitVectorsGets128BitKernels() throws IOException, InterruptedException {
        assumeTrue(System.getProperty("os.arch").matches("amd64|x86_64"), "needs x86 to restrict the JIT to SSE");
        assumeTrue(System.getProperty(VectorMicroKernel.BITS_PROPERTY) == null, "the width is forced in this run");
        String output = describe("-XX:UseAVX=0");
        assertTrue(output.contains("preferred 128, kernels vector: 128-bit, tile 4x8"), output);
    }

    /** A width wider than the CPU's vectors is accepted (its bits are the same anywhere) but said at WARNING. */
    @Test
    void aWidthBeyondTheCpusIsSaid() throws IOException, InterruptedException {
        assumeTrue(System.getProperty("os.arch").matches("amd64|x86_64"), "needs x86 to restrict the JIT to AVX2");
        String output = describe("-XX:UseAVX=2", "-D" + VectorMicroKernel.BITS_PROPERTY + "=512");
        assertTrue(output.contains("WARNING: -D" + VectorMicroKernel.BITS_PROPERTY + "=512 is wider than this CPU's "
                + "256-bit vectors"), output);
    }

    /** Runs {@link Describe} in a JVM of its own with the given options; its output, after checking it exited 0. */
    private static String describe(String... options) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "--add-modules", "jdk.incubator.vector"));
        command.addAll(List.of(options));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Describe.class.getName()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish: " + command);
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    /** The child: prints the preferred width and the vector provider's configuration. */
    static final class Describe {
        private Describe() {
        }

        public static void main(String[] args) {
            System.out.println("preferred " + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize()
                    + ", kernels " + VectorKernels.INSTANCE.description());
        }
    }
}
