package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.Adam;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.Optimizer;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Allocations the CPU backend cannot satisfy: each fails with a {@link CpuOutOfMemoryException}
 * that gives the size asked and the memory in use, and a training step that fails on any one
 * of its allocations leaves every parameter bitwise as it was, and the optimizer able to go on.
 */
class AllocationFailureTest {

    private Backend previous;

    @BeforeEach
    void remember() {
        previous = Backends.current();
    }

    @AfterEach
    void restore() {
        Backends.use(previous);
    }

    @Test
    void aBufferBeyondWhatAnArrayHoldsGivesItsSize() {
        CpuBackend backend = new CpuBackend();
        var error = assertThrows(CpuOutOfMemoryException.class, () -> backend.allocate(10_000_000_000L));
        assertTrue(error.getMessage().startsWith("cpu backend: cannot allocate 10000000000 floats (40000000000 bytes "
                + "= 38147.0 MiB): a CPU buffer holds at most 2147483639 floats (Java arrays are int-indexed); heap in "
                + "use "), error.getMessage());
        assertTrue(error.getMessage().contains(", buffer pool caching "), error.getMessage());
        assertEquals(40_000_000_000L, error.requestedBytes());
        assertEquals(Runtime.getRuntime().maxMemory(), error.heapMaxBytes());
        assertTrue(error.heapUsedBytes() > 0);
    }

    @Test
    void aTensorLargerThanTheHeapGivesTheHeap() {
        long maxHeap = Runtime.getRuntime().maxMemory();
        long elements = maxHeap / Float.BYTES + 1;
        assumeTrue(elements <= CpuBackend.MAX_ELEMENTS, "a heap of 8 GiB or more holds every array");
        CpuBackend backend = new CpuBackend();
        Backends.use(backend);
        // One block of rows too many for the heap: the size check passes (an int count), the heap cannot.
        int rows = Math.toIntExact(elements / 1024 + 1);
        var error = assertThrows(CpuOutOfMemoryException.class, () -> Tensor.zeros(rows, 1024));
        assertTrue(error.getMessage().startsWith("cpu backend: cannot allocate " + (long) rows * 1024 + " floats ("),
                error.getMessage());
        assertTrue(error.getMessage().contains("): more than the heap's maximum; heap in use "), error.getMessage());
        assertTrue(error.getMessage().contains(" of at most " + maxHeap + " bytes = "), error.getMessage());
        assertEquals(4L * rows * 1024, error.requestedBytes());
    }

    @Test
    void aForwardPassTooLargeForTheHeapLeavesTheModelAsItWas() {
        long maxHeap = Runtime.getRuntime().maxMemory();
        int width = 4096;
        long rows = maxHeap / Float.BYTES / width + 1;
        assumeTrue(rows * width <= CpuBackend.MAX_ELEMENTS, "a heap of 8 GiB or more holds every array");
        Backends.use(new CpuBackend());
        Sequential model = new Sequential(new Linear(1, width, Activation.RELU, 1), new Linear(width, 2, 2));
        SGD optimizer = new SGD(model.parameters(), 0.1f, 0.9f);
        Map<String, int[]> before = bits(model);
        Tensor batch = Tensor.randn(3, Math.toIntExact(rows), 1);
        assertThrows(CpuOutOfMemoryException.class, () -> {
            optimizer.zeroGrad();
            Losses.crossEntropy(model.apply(batch), new int[Math.toIntExact(rows)]).backward();
            optimizer.step();
        });
        assertBitwiseEqual(before, bits(model));
    }

    /** Which optimizers the sweep runs, by name. */
    private static final Map<String, Function<List<Tensor>, Optimizer>> OPTIMIZERS = new LinkedHashMap<>();

    static {
        OPTIMIZERS.put("SGD with momentum and weight decay", parameters -> new SGD(parameters, 0.05f, 0.9f, 0.01f));
        OPTIMIZERS.put("SGD with weight decay", parameters -> new SGD(parameters, 0.05f, 0f, 0.01f));
        OPTIMIZERS.put("Adam", parameters -> new Adam(parameters, 0.01f));
        OPTIMIZERS.put("AdamW", parameters -> new AdamW(parameters, 0.01f));
    }

    /**
     * For every allocation of the first two training steps (the first allocates the optimizer's
     * state), makes that one allocation fail: the step must throw, leave every parameter
     * bitwise as before, and the following clean step must give what a run without the failure
     * gives.
     */
    @Test
    void everyAllocationOfAStepMayFailWithoutChangingAParameter() {
        int sweeps = 0;
        for (var optimizer : OPTIMIZERS.entrySet()) {
            for (boolean checkpointed : new boolean[] {false, true}) {
                sweeps += sweep(optimizer.getKey(), optimizer.getValue(), checkpointed);
            }
        }
        assertTrue(sweeps > 200, "allocations tried: " + sweeps);
    }

    private static int sweep(String name, Function<List<Tensor>, Optimizer> optimizerFactory, boolean checkpointed) {
        String what = name + (checkpointed ? ", checkpointed" : "");
        // The reference: two clean steps, counting the allocations of each.
        FailingBackend counting = new FailingBackend();
        Run reference = new Run(counting, optimizerFactory, checkpointed);
        Map<String, int[]> initial = bits(reference.model);
        int before = counting.calls;
        reference.step();
        int firstStep = counting.calls - before;
        Map<String, int[]> afterOne = bits(reference.model);
        before = counting.calls;
        reference.step();
        int[] allocations = {firstStep, counting.calls - before};
        Map<String, int[]> afterTwo = bits(reference.model);
        assertTrue(allocations[1] > 10 && allocations[0] > allocations[1], what + ": " + Arrays.toString(allocations));

        int tried = 0;
        for (int stepIndex = 0; stepIndex < 2; stepIndex++) {
            for (int failing = 1; failing <= allocations[stepIndex]; failing++) {
                FailingBackend backend = new FailingBackend();
                Run run = new Run(backend, optimizerFactory, checkpointed);
                if (stepIndex == 1) {
                    run.step();
                }
                Map<String, int[]> expectedBefore = stepIndex == 0 ? initial : afterOne;
                backend.failAt = backend.calls + failing;
                String context = what + ", step " + (stepIndex + 1) + ", allocation " + failing;
                var error = assertThrows(CpuOutOfMemoryException.class, run::step, context);
                assertTrue(error.getMessage().startsWith("cpu backend: cannot allocate "), context);
                assertBitwiseEqual(expectedBefore, bits(run.model), context);
                backend.failAt = -1;
                run.step();
                assertBitwiseEqual(stepIndex == 0 ? afterOne : afterTwo, bits(run.model), context + ", then a clean step");
                tried++;
            }
        }
        return tried;
    }

    /** A small classifier, its optimizer and a fixed batch, on one backend. */
    private static final class Run {

        final Sequential model;
        final Optimizer optimizer;
        final boolean checkpointed;
        final Tensor inputs;
        final int[] labels = {0, 1, 2, 3, 1, 2};

        Run(FailingBackend backend, Function<List<Tensor>, Optimizer> optimizerFactory, boolean checkpointed) {
            Backends.use(backend.proxy);
            this.model = new Sequential(new Linear(8, 16, Activation.RELU, 1), new Linear(16, 16, Activation.TANH, 2),
                    new Linear(16, 4, Activation.IDENTITY, 3));
            this.optimizer = optimizerFactory.apply(model.parameters());
            this.checkpointed = checkpointed;
            this.inputs = Tensor.randn(4, labels.length, 8);
        }

        void step() {
            optimizer.zeroGrad();
            Tensor logits = checkpointed ? model.apply(inputs, CheckpointPolicy.sqrt(), new CheckpointMeter())
                    : model.apply(inputs);
            Losses.crossEntropy(logits, labels).backward();
            optimizer.step();
        }
    }

    /**
     * The CPU backend, but the allocation (or upload) numbered {@code failAt} fails as a full
     * heap would make it fail: with the backend's own exception, from a request it cannot meet.
     */
    private static final class FailingBackend {

        private final CpuBackend cpu = new CpuBackend();
        int calls;
        int failAt = -1;
        final Backend proxy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                    (self, method, arguments) -> {
                        if (method.getName().equals("allocate") || method.getName().equals("allocateUninitialized")
                                || method.getName().equals("upload")) {
                            if (++calls == failAt) {
                                cpu.allocate(CpuBackend.MAX_ELEMENTS + 1L);
                            }
                        }
                        try {
                            return method.invoke(cpu, arguments);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
    }

    private static Map<String, int[]> bits(Sequential model) {
        Map<String, int[]> bits = new LinkedHashMap<>();
        model.namedParameters().forEach((name, tensor) -> {
            float[] values = tensor.toFloatArray();
            int[] raw = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                raw[i] = Float.floatToRawIntBits(values[i]);
            }
            bits.put(name, raw);
        });
        return bits;
    }

    private static void assertBitwiseEqual(Map<String, int[]> expected, Map<String, int[]> actual) {
        assertBitwiseEqual(expected, actual, "");
    }

    private static void assertBitwiseEqual(Map<String, int[]> expected, Map<String, int[]> actual, String context) {
        assertEquals(expected.keySet(), actual.keySet(), context);
        List<String> differing = new ArrayList<>();
        for (String name : expected.keySet()) {
            if (!Arrays.equals(expected.get(name), actual.get(name))) {
                differing.add(name);
            }
        }
        assertEquals(List.of(), differing, context + ": parameters changed");
    }
}
