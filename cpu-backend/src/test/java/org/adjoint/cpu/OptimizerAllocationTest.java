package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.optim.Adam;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.CosineDecay;
import org.adjoint.optim.LearningRateSchedule;
import org.adjoint.optim.Optimizer;
import org.adjoint.optim.SGD;
import org.adjoint.optim.StepDecay;
import org.junit.jupiter.api.Test;

/**
 * The README's promise that optimizer updates allocate nothing after the first step, on the
 * heap: once warm, a training loop's {@code schedule.apply}, {@code step()} and
 * {@code zeroGrad()} allocate not one byte on the calling thread or on the kernels' worker
 * threads, for every optimizer, on both kernel providers, on small parameters and on
 * parameters large enough for the {@link BufferPool}, whose counters show that no backend
 * buffer is taken after the first step either.
 *
 * <p>Warm means compiled by C2. The interpreter and C1 do not remove allocations by escape
 * analysis, and outside C2 the Vector API boxes every vector, so the first thousands of steps
 * do allocate. How many steps it takes C2 to get there depends on how busy the machine is,
 * since it compiles in the background; so the count runs in a JVM of its own with
 * {@code -Xbatch}, where a method is compiled before it runs again and warm-up is a number of
 * steps. There, after {@value #WARM_UP} steps, rounds of {@value #ROUND} steps run until one
 * allocates nothing, and the {@value #CONFIRM} steps after it must allocate nothing too: a
 * step that allocates every time never gets there, and one that allocates now and then is
 * caught by the confirming window. The warm-up is past the 5,000-odd calls after which C2
 * compiles the methods called once per step (the schedule's): with 5,000 steps a round could
 * reach zero while those still ran C1 code, and their recompilation cost 536 bytes once in
 * the confirming window.
 *
 * <p>The pool's counters see only buffers of {@link BufferPool#MIN_LENGTH} floats or more. A
 * smaller buffer is a heap object, so it shows in the bytes, unless C2 proves it unused and
 * removes it; {@code OptimConformance} counts every buffer a step asks of the backend.
 */
class OptimizerAllocationTest {

    private static final int WARM_UP = 10_000;
    private static final int ROUND = 100;
    private static final int MAX_ROUNDS = 200;
    private static final int CONFIRM = 2_000;

    private static final List<String> PROVIDERS = List.of("vector", "scalar");

    @Test
    void aWarmTrainingStepAllocatesNothing() {
        assumeFalse("scalar".equals(System.getProperty("adjoint.cpu.kernels")),
                "the child JVM runs both providers; once is enough");
        ChildJvm.Result result = ChildJvm.run(List.of("--add-modules", "jdk.incubator.vector", "-Xbatch"), Child.class);
        assertEquals(0, result.exitCode(), result.output());
        List<String> lines = result.output().lines().filter(line -> line.startsWith("child ")).toList();

        List<String> steps = lines.stream().filter(line -> !line.startsWith("child control")).toList();
        assertEquals(PROVIDERS.size() * Setting.ALL.size() * Size.values().length, steps.size(), result.output());
        List<String> allocating = steps.stream().filter(line -> !line.endsWith(": 0 bytes, 0 buffers")).toList();
        assertEquals(List.of(), allocating, "steps that allocated once warm, in\n" + result.output());

        // The count can fail: a step that keeps one small array each time is seen.
        String control = lines.stream().filter(line -> line.startsWith("child control")).findFirst().orElseThrow();
        long bytes = Long.parseLong(control.replaceAll("\\D", ""));
        assertTrue(bytes >= CONFIRM * 16L, "a float[4] per step should count at least 16 bytes per step: " + control);
    }

    /** Parameter shapes: a matrix, a vector, a rank-0 scalar, and one more that gets no gradient. */
    private enum Size {
        SMALL(new int[][] {{3, 5}, {5}, {}}, new int[] {4}),
        /** At least {@link BufferPool#MIN_LENGTH} elements each, so the pool counts every buffer. */
        LARGE(new int[][] {{64, 128}, {BufferPool.MIN_LENGTH}}, new int[] {2 * BufferPool.MIN_LENGTH});

        private final int[][] trained;
        private final int[] unused;

        Size(int[][] trained, int[] unused) {
            this.trained = trained;
            this.unused = unused;
        }

        /** The parameters, the trained ones with a gradient from {@code Σ p²}. */
        List<Tensor> parameters() {
            List<Tensor> parameters = new ArrayList<>();
            Tensor loss = null;
            for (int i = 0; i < trained.length; i++) {
                Tensor p = Tensor.randn(i, trained[i]).requiresGrad(true);
                parameters.add(p);
                Tensor term = p.mul(p).sum();
                loss = loss == null ? term : loss.add(term);
            }
            parameters.add(Tensor.randn(trained.length, unused).requiresGrad(true));
            loss.backward();
            return parameters;
        }
    }

    /** An optimizer and the schedule that drives it. */
    private record Setting(String name, Function<List<Tensor>, Optimizer> create, LearningRateSchedule schedule) {

        static final List<Setting> ALL = all();

        private static List<Setting> all() {
            LearningRateSchedule cosine = new CosineDecay(0.01f, 1e-4f, 1_000, 10);
            LearningRateSchedule stepDecay = new StepDecay(0.01f, 100, 0.5f);
            return List.of(
                    new Setting("SGD", p -> new SGD(p, 0.01f), cosine),
                    new Setting("SGD with momentum", p -> new SGD(p, 0.01f, 0.9f), stepDecay),
                    new Setting("SGD with weight decay", p -> new SGD(p, 0.01f, 0f, 1e-4f), cosine),
                    new Setting("SGD with momentum and weight decay", p -> new SGD(p, 0.01f, 0.9f, 1e-4f), stepDecay),
                    new Setting("Adam", p -> new Adam(p, 0.01f), cosine),
                    new Setting("Adam with weight decay", p -> new Adam(p, 0.01f, 0.9f, 0.999f, 1e-8f, 1e-4f),
                            stepDecay),
                    new Setting("AdamW", p -> new AdamW(p, 0.01f), cosine));
        }
    }

    /** One step of a training loop, given its number. */
    @FunctionalInterface
    private interface Step {
        void run(int step);
    }

    /**
     * Warms up, then runs rounds of {@value #ROUND} steps until one allocates nothing, and
     * returns what the following {@value #CONFIRM} steps allocate (if no round got to zero,
     * that is not zero either).
     */
    private static long bytesOnceWarm(Step step) {
        int n = 0;
        for (; n < WARM_UP; n++) {
            step.run(n);
        }
        for (int round = 0; round < MAX_ROUNDS; round++) {
            HeapAllocations count = HeapAllocations.start();
            for (int i = 0; i < ROUND; i++, n++) {
                step.run(n);
            }
            if (count.stop() == 0) {
                break;
            }
        }
        HeapAllocations count = HeapAllocations.start();
        for (int i = 0; i < CONFIRM; i++, n++) {
            step.run(n);
        }
        return count.stop();
    }

    /** What {@link Child}'s control step keeps, so that its allocation escapes. */
    private static float[] kept;

    /** Counts in a JVM of its own; prints one line per provider, setting and size, then the control's. */
    static final class Child {

        private Child() {
        }

        /**
         * Runs every setting on both providers, then the control.
         *
         * @param arguments none
         */
        public static void main(String[] arguments) {
            for (String provider : PROVIDERS) {
                CpuBackend cpu = new CpuBackend(KernelProvider.named(provider));
                Backends.use(cpu);
                // A threaded GEMM starts the kernel pool's workers, so that they exist to be counted.
                Tensor.randn(0, 256, 256).matmul(Tensor.randn(1, 256, 256));
                for (Setting setting : Setting.ALL) {
                    for (Size size : Size.values()) {
                        Optimizer optimizer = setting.create().apply(size.parameters());
                        LearningRateSchedule schedule = setting.schedule();
                        optimizer.step();
                        long requests = cpu.pool().hits() + cpu.pool().misses();
                        long bytes = bytesOnceWarm(step -> {
                            schedule.apply(optimizer, step % 1_000);
                            optimizer.step();
                            optimizer.zeroGrad();
                        });
                        long buffers = cpu.pool().hits() + cpu.pool().misses() - requests;
                        System.out.println("child " + provider + ", " + setting.name() + ", " + size + ": " + bytes
                                + " bytes, " + buffers + " buffers");
                    }
                }
            }
            Optimizer optimizer = new SGD(Size.SMALL.parameters(), 0.01f);
            long bytes = bytesOnceWarm(step -> {
                optimizer.step();
                kept = new float[4];
            });
            System.out.println("child control: " + bytes + " bytes");
        }
    }
}
