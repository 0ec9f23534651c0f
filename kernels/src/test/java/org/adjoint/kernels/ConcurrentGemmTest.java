package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/**
 * Threaded GEMMs started from several threads at once, and from inside a fork-join pool,
 * finish with the right result. Each GEMM's parts meet at barriers, so two of them sharing
 * the kernel pool could hold every worker at a barrier; the child JVM runs a pool of four
 * threads on however many cores there are, where that deadlock showed.
 */
class ConcurrentGemmTest {

    /** Four user threads and a parallel stream, each running threaded products. */
    static final class Probe {

        public static void main(String[] args) throws InterruptedException {
            int n = 192;
            float[] a = new float[n * n];
            float[] b = new float[n * n];
            for (int i = 0; i < a.length; i++) {
                a[i] = (i % 7) - 3;
                b[i] = (i % 5) - 2;
            }
            float[] expected = new float[n * n];
            KernelProvider vector = VectorKernels.INSTANCE;
            vector.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, expected, 0, n);
            Thread[] threads = new Thread[4];
            boolean[] ok = new boolean[threads.length + 1];
            for (int t = 0; t < threads.length; t++) {
                int index = t;
                threads[t] = new Thread(() -> ok[index] = repeat(vector, a, b, expected, n));
                threads[t].start();
            }
            ok[threads.length] = IntStream.range(0, 8).parallel().allMatch(i -> repeat(vector, a, b, expected, n));
            for (Thread thread : threads) {
                thread.join();
            }
            boolean all = true;
            for (boolean each : ok) {
                all &= each;
            }
            System.out.println(all ? "all equal" : "a result differed");
        }

        private static boolean repeat(KernelProvider kernels, float[] a, float[] b, float[] expected, int n) {
            float[] c = new float[n * n];
            for (int r = 0; r < 40; r++) {
                kernels.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
                if (!java.util.Arrays.equals(expected, c)) {
                    return false;
                }
            }
            return true;
        }
    }

    @Test
    void productsFromManyThreadsFinishAndAgree() throws IOException, InterruptedException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Dadjoint.cpu.threads=4", "-cp",
                System.getProperty("java.class.path"), Probe.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        boolean finished = process.waitFor(60, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly();
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(finished, "the products deadlocked (no result in 60 s): " + output);
        assertEquals("all equal", output.lines().filter(line -> line.endsWith("equal") || line.endsWith("differed"))
                .findFirst().orElse(output));
    }
}
