package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.adjoint.backend.OutOfMemoryException;
import org.adjoint.data.Dataset;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.nn.Dropout;
import org.adjoint.nn.RandomState;
import org.junit.jupiter.api.Test;

/**
 * Every way of making a tensor or copying one out, in a JVM of its own with a 64 MiB heap,
 * fails with an {@link OutOfMemoryException} that names the operation, the bytes asked and
 * the heap, never with a bare {@link OutOfMemoryError}: once when the request is more than
 * the heap's maximum (refused before trying) and once when the heap is full. Host arrays of
 * the engine ({@code Tensor.randn}'s samples, a data set's copy) name the engine operation;
 * buffers and host copies made by the CPU backend (a dropout mask too, drawn in its buffer) are
 * its {@link CpuOutOfMemoryException}.
 */
class CreationHeapTest {

    /** 20 M floats: 80 MB, more than a 64 MiB heap. */
    private static final int BEYOND = 20_000_000;
    /** 2 M floats: 8 MB, more than the child leaves free once it has filled its heap. */
    private static final int FULL = 2_000_000;

    @Test
    void everyCreationPathFailsWithTheOperationAndTheSizes() {
        assumeFalse("scalar".equals(System.getProperty("adjoint.cpu.kernels")), "the child JVM runs scalar kernels");
        ChildJvm.Result result = ChildJvm.run(List.of("-Xmx64m", "-XX:+UseSerialGC"), Child.class);
        assertEquals(0, result.exitCode(), result.output());
        Map<String, String> lines = new LinkedHashMap<>();
        for (String line : result.output().strip().lines().filter(l -> l.startsWith("child ")).toList()) {
            int colon = line.indexOf(": ");
            lines.put(line.substring("child ".length(), colon), line.substring(colon + 2));
        }
        String randn = "OutOfMemoryException Tensor.randn [20000000] 80000000: Tensor.randn [20000000]: cannot "
                + "allocate 80000000 bytes = 76.3 MiB on the Java heap: more than the heap's maximum; heap in use ";
        String backend = "CpuOutOfMemoryException cpu backend 80000000: cpu backend: cannot allocate 20000000 floats "
                + "(80000000 bytes = 76.3 MiB): more than the heap's maximum; heap in use ";
        assertStarts(lines, "randn beyond", randn);
        assertStarts(lines, "rand beyond", randn.replace("randn", "rand"));
        assertStarts(lines, "zeros beyond", backend);
        assertStarts(lines, "ones beyond", backend);
        assertStarts(lines, "full beyond", backend);

        String hostFull = " 8000000: %s: cannot allocate 8000000 bytes = 7.6 MiB on the Java heap: the heap is full; "
                + "heap in use ";
        String backendFull = "CpuOutOfMemoryException cpu backend 8000000: cpu backend: cannot allocate 2000000 "
                + "floats (8000000 bytes = 7.6 MiB): the heap is full; heap in use ";
        assertStarts(lines, "randn full", "OutOfMemoryException Tensor.randn [2000000]"
                + hostFull.formatted("Tensor.randn [2000000]"));
        assertStarts(lines, "rand full", "OutOfMemoryException Tensor.rand [1000, 2000]"
                + hostFull.formatted("Tensor.rand [1000, 2000]"));
        assertStarts(lines, "of full", backendFull);
        assertStarts(lines, "zeros full", backendFull);
        assertStarts(lines, "ones full", backendFull);
        assertStarts(lines, "full full", backendFull);
        assertStarts(lines, "toFloatArray full", backendFull);
        // The CPU backend draws the mask into a buffer of its own, as zeros and ones allocate theirs.
        assertStarts(lines, "dropout full", backendFull);
        assertStarts(lines, "Dataset.scale full", "OutOfMemoryException Dataset.scale"
                + hostFull.formatted("Dataset.scale"));
        assertEquals("unchanged", lines.get("random state after the failed dropout"), result.output());
        assertEquals("2000000 floats", lines.get("after releasing the ballast, randn"), result.output());
        assertEquals(14, lines.size() - 2, result.output());
        for (Map.Entry<String, String> line : lines.entrySet()) {
            if (line.getKey().endsWith("beyond") || line.getKey().endsWith("full")) {
                assertTrue(line.getValue().contains(" of at most "), line.getKey() + ": " + line.getValue());
            }
        }
    }

    private static void assertStarts(Map<String, String> lines, String name, String prefix) {
        String line = lines.get(name);
        assertTrue(line != null && line.startsWith(prefix), name + ": expected to start with\n" + prefix + "\nbut was\n"
                + line + "\nall: " + lines);
    }

    /** What runs in the small heap: prints one line per case. */
    static final class Child {

        private Child() {
        }

        /**
         * Asks for more than the heap, then fills the heap and asks for a little more.
         *
         * @param arguments none
         */
        public static void main(String[] arguments) {
            Backends.use(new CpuBackend(KernelProvider.named("scalar")));
            report("randn beyond", () -> Tensor.randn(1, BEYOND));
            report("rand beyond", () -> Tensor.rand(1, BEYOND));
            report("zeros beyond", () -> Tensor.zeros(BEYOND));
            report("ones beyond", () -> Tensor.ones(BEYOND));
            report("full beyond", () -> Tensor.full(2f, BEYOND));

            // What the "full" cases start from, made while there is room.
            float[] data = new float[FULL];
            Tensor tensor = Tensor.zeros(FULL);
            Dropout dropout = new Dropout(0.5f);
            Dataset dataset = Dataset.of(new float[FULL], 1000, new int[FULL / 1000]);
            List<float[]> ballast = new ArrayList<>();
            try {
                while (true) {
                    ballast.add(new float[250_000]);
                }
            } catch (OutOfMemoryError e) {
                // Free 4 MB: a little room, less than any case asks for.
                for (int i = 0; i < 4; i++) {
                    ballast.removeLast();
                }
            }
            report("randn full", () -> Tensor.randn(1, FULL));
            report("rand full", () -> Tensor.rand(1, 1000, FULL / 1000));
            report("of full", () -> Tensor.of(data));
            report("zeros full", () -> Tensor.zeros(FULL));
            report("ones full", () -> Tensor.ones(FULL));
            report("full full", () -> Tensor.full(2f, FULL));
            report("toFloatArray full", tensor::toFloatArray);
            RandomState.set(7);
            report("dropout full", () -> dropout.apply(tensor));
            System.out.println("child random state after the failed dropout: "
                    + (RandomState.get() == 7 ? "unchanged" : "changed"));
            report("Dataset.scale full", () -> dataset.scale(0.5f));
            int held = ballast.size();
            ballast.clear();
            System.out.println("child after releasing the ballast, randn: " + Tensor.randn(1, FULL).size()
                    + " floats");
            System.out.println("ballast of " + held + " arrays");
        }

        private static void report(String name, Supplier<Object> allocation) {
            try {
                Object made = allocation.get();
                System.out.println("child " + name + ": allocated " + made.getClass().getSimpleName());
            } catch (OutOfMemoryException e) {
                System.out.println("child " + name + ": " + e.getClass().getSimpleName() + " " + e.operation() + " "
                        + e.requestedBytes() + ": " + e.getMessage());
            }
        }
    }
}
