package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.Backends;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.optim.Adam;
import org.junit.jupiter.api.Test;

/**
 * A real {@link OutOfMemoryError}, in a JVM of its own with a 64 MiB heap: the backend turns it
 * into a {@link CpuOutOfMemoryException} after releasing its pool's cache, and a training step
 * that runs out of heap leaves the model's parameters as they were.
 */
class HeapExhaustionTest {

    @Test
    void aFullHeapFailsWithTheSizeAndTheMemoryInUse() {
        assumeFalse("scalar".equals(System.getProperty("adjoint.cpu.kernels")), "the child JVM runs scalar kernels");
        ChildJvm.Result result = ChildJvm.run(List.of("-Xmx64m", "-XX:+UseSerialGC"), Child.class);
        assertEquals(0, result.exitCode(), result.output());
        List<String> lines = result.output().strip().lines().filter(line -> line.startsWith("child ")).toList();
        assertEquals(3, lines.size(), result.output());
        assertTrue(lines.get(0).startsWith("child filled: cpu backend: cannot allocate 1000000 floats (4000000 bytes = "
                + "3.8 MiB): the heap is full; heap in use "), lines.get(0));
        assertTrue(lines.get(0).contains(" of at most "), lines.get(0));
        assertTrue(lines.get(0).endsWith(", buffer pool caching 0 bytes (raise -Xmx, use smaller batches, or drop "
                + "references to tensors no longer needed)"), lines.get(0));
        assertTrue(lines.get(1).startsWith("child cache released: cpu backend: cannot allocate 3000000 floats "
                + "(12000000 bytes = 11.4 MiB): the heap is full, even after the buffer pool released its cache; heap "
                + "in use "), lines.get(1));
        assertTrue(lines.get(1).contains(", buffer pool caching 4000000 bytes = 3.8 MiB (raise -Xmx"), lines.get(1));
        assertEquals("child step: failed, parameters unchanged", lines.get(2), result.output());
    }

    /** What runs in the small heap; prints one line per check, and exits 0 when all went as expected. */
    static final class Child {

        private Child() {
        }

        /**
         * Fills the heap, once with raw buffers and once with a training step.
         *
         * @param arguments none
         */
        public static void main(String[] arguments) {
            CpuBackend cpu = new CpuBackend(KernelProvider.named("scalar"));
            Backends.use(cpu);
            List<Buffer> held = new ArrayList<>();
            try {
                while (true) {
                    held.add(cpu.allocate(1_000_000));
                }
            } catch (CpuOutOfMemoryException e) {
                System.out.println("child filled: " + e.getMessage());
            }
            // Less than 4 MB is free; caching one more buffer leaves less than 8 MB to release.
            cpu.release(held.removeLast());
            try {
                cpu.allocate(3_000_000);
                System.out.println("child cache released: allocated");
            } catch (CpuOutOfMemoryException e) {
                System.out.println("child cache released: " + e.getMessage());
            }
            held.clear();
            step(cpu);
        }

        /** A step whose hidden layer (21 MB, as much again for its gradient) cannot fit beside 40 MB held. */
        private static void step(Backend cpu) {
            Linear first = new Linear(16, 2048, Activation.RELU, 1);
            Linear second = new Linear(2048, 4, Activation.IDENTITY, 2);
            Adam optimizer = new Adam(List.of(first.weight(), first.bias(), second.weight(), second.bias()), 0.01f);
            float[][] before = values(first, second);
            Tensor inputs = Tensor.randn(3, 2600, 16);
            List<Buffer> ballast = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                ballast.add(cpu.allocate(2_000_000));
            }
            try {
                optimizer.zeroGrad();
                Losses.crossEntropy(second.apply(first.apply(inputs)), new int[2600]).backward();
                optimizer.step();
                System.out.println("child step: did not run out of memory");
            } catch (CpuOutOfMemoryException e) {
                boolean unchanged = Arrays.deepEquals(before, values(first, second));
                System.out.println("child step: failed, parameters " + (unchanged ? "unchanged" : "changed"));
            }
            System.out.println("ballast of " + ballast.size() + " buffers");
        }

        private static float[][] values(Linear first, Linear second) {
            return new float[][] {first.weight().toFloatArray(), first.bias().toFloatArray(),
                second.weight().toFloatArray(), second.bias().toFloatArray()};
        }
    }
}
