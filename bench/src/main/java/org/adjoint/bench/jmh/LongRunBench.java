package org.adjoint.bench.jmh;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.cpu.BufferPool;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.SGD;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A long training run of the {@link MlpStepBench} model (784-1024-1024-1024-10 with ReLU,
 * batch 256, SGD on a fixed batch, the same seeds), timed once as a whole, which checks that
 * memory stays flat once warmed up. The secondary scores are the heap in use after a full
 * collection when the warm-up steps are done and when the last step is ({@code heapAfterWarmUpBytes},
 * {@code heapAtEndBytes}, and their difference {@code heapGrowthBytes}); the direct (native)
 * buffer bytes at both points; the CPU backend's {@link BufferPool}: the arrays it made in the
 * last step against the first step after warm-up, and the bytes it holds; and, under a
 * checkpoint policy, the activation bytes the {@link CheckpointMeter} still counts after the
 * last step, which must be 0. The same figures are printed at the end of the run.
 *
 * <p>The full run is 10,000 steps, minutes of work; for a quick check:
 * <pre>{@code
 * java --add-modules jdk.incubator.vector -cp bench/target/adjoint.jar \
 *     org.openjdk.jmh.Main LongRunBench -p steps=300 -p warmUpSteps=100
 * }</pre>
 * {@code -p policy=sqrt} runs the chain under {@link CheckpointPolicy#sqrt()}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow",
        "-Xms2g", "-Xmx2g"})
public class LongRunBench {

    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    /** Training steps in the run. */
    @Param("10000")
    public int steps;

    /** Steps before the first measurement: the JIT has compiled the kernels and the pool is filled. */
    @Param("500")
    public int warmUpSteps;

    /** Kernel provider of the CPU backend: {@code vector} or {@code scalar}. */
    @Param("vector")
    public String provider;

    /** {@code none} (every layer taped) or {@code sqrt} (the chain checkpointed). */
    @Param("none")
    public String policy;

    private CpuBackend backend;
    private Sequential model;
    private SGD optimizer;
    private Tensor inputs;
    private int[] labels;

    /** Creates the benchmark state; JMH calls this. */
    public LongRunBench() {
    }

    /** The memory figures, reported as secondary results; zeroed before the run. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Memory {

        /** Heap in use after a full collection once the warm-up steps are done. */
        public long heapAfterWarmUpBytes;
        /** Heap in use after a full collection after the last step. */
        public long heapAtEndBytes;
        /** {@code heapAtEndBytes − heapAfterWarmUpBytes}. */
        public long heapGrowthBytes;
        /** Direct (native) buffer bytes once warmed up. */
        public long directAfterWarmUpBytes;
        /** Direct (native) buffer bytes at the end. */
        public long directAtEndBytes;
        /** Arrays the pool had to make in the first step after warm-up. */
        public long poolNewArraysFirstStep;
        /** Arrays the pool had to make in the last step. */
        public long poolNewArraysLastStep;
        /** Bytes the pool holds after the last step. */
        public long poolBytesAtEnd;
        /** Activation bytes the checkpoint meter counts after the last step (0 when all were freed). */
        public long checkpointBytesAtEnd;

        /** Creates the counters; JMH calls this. */
        public Memory() {
        }

        /** Zeroes every figure. */
        @Setup(Level.Iteration)
        public void clear() {
            heapAfterWarmUpBytes = 0;
            heapAtEndBytes = 0;
            heapGrowthBytes = 0;
            directAfterWarmUpBytes = 0;
            directAtEndBytes = 0;
            poolNewArraysFirstStep = 0;
            poolNewArraysLastStep = 0;
            poolBytesAtEnd = 0;
            checkpointBytesAtEnd = 0;
        }
    }

    /** Builds the model, data and optimizer of {@link MlpStepBench} from the same seeds, as one chain. */
    @Setup(Level.Trial)
    public void setUp() {
        if (warmUpSteps < 1 || warmUpSteps >= steps) {
            throw new IllegalArgumentException("LongRunBench: warmUpSteps must be in [1, steps), got " + warmUpSteps
                    + " of " + steps);
        }
        backend = new CpuBackend(KernelProvider.named(provider));
        Backends.use(backend);
        SplittableRandom random = new SplittableRandom(7);
        int[] widths = MlpStepBench.WIDTHS;
        labels = new int[MlpStepBench.BATCH];
        for (int row = 0; row < labels.length; row++) {
            labels[row] = random.nextInt(widths[widths.length - 1]);
        }
        inputs = Tensor.randn(random.nextLong(), MlpStepBench.BATCH, widths[0]);
        List<Layer> layers = new ArrayList<>();
        for (int layer = 0; layer + 1 < widths.length; layer++) {
            Activation activation = layer + 2 < widths.length ? Activation.RELU : Activation.IDENTITY;
            layers.add(new Linear(widths[layer], widths[layer + 1], activation, random.nextLong()));
        }
        model = new Sequential(layers);
        optimizer = new SGD(model.parameters(), MlpStepBench.LEARNING_RATE);
    }

    /**
     * Runs every step, measuring memory after the warm-up and at the end.
     *
     * @param memory where the figures go
     * @return the last loss
     */
    @Benchmark
    public float run(Memory memory) {
        CheckpointPolicy checkpoints = switch (policy) {
            case "none" -> null;
            case "sqrt" -> CheckpointPolicy.sqrt();
            default -> throw new IllegalArgumentException("LongRunBench: policy must be none or sqrt, got " + policy);
        };
        CheckpointMeter meter = new CheckpointMeter();
        BufferPool pool = backend.pool();
        float warmUpLoss = Float.NaN;
        float loss = Float.NaN;
        for (int step = 1; step <= steps; step++) {
            long misses = pool.misses();
            optimizer.zeroGrad();
            Tensor logits = checkpoints == null ? model.apply(inputs) : model.apply(inputs, checkpoints, meter);
            Tensor value = Losses.crossEntropy(logits, labels);
            value.backward();
            optimizer.step();
            if (step == warmUpSteps) {
                warmUpLoss = value.item();
                memory.heapAfterWarmUpBytes = collectedHeap();
                memory.directAfterWarmUpBytes = directBytes();
            } else if (step == warmUpSteps + 1) {
                memory.poolNewArraysFirstStep = pool.misses() - misses;
            } else if (step == steps) {
                loss = value.item();
                memory.poolNewArraysLastStep = pool.misses() - misses;
            }
        }
        memory.heapAtEndBytes = collectedHeap();
        memory.heapGrowthBytes = memory.heapAtEndBytes - memory.heapAfterWarmUpBytes;
        memory.directAtEndBytes = directBytes();
        memory.poolBytesAtEnd = pool.pooledBytes();
        memory.checkpointBytesAtEnd = meter.savedBytes();
        System.out.printf(Locale.ROOT, "%nLongRunBench (%s, policy %s): heap after GC %.2f MiB after %d warm-up steps, "
                + "%.2f MiB after %d steps (growth %+.2f MiB); direct buffers %d -> %d bytes; pool made %d arrays in "
                + "the first measured step, %d in the last, holds %d bytes; checkpoint bytes held at the end %d; "
                + "loss %.4f -> %.4f%n", provider, policy, mib(memory.heapAfterWarmUpBytes), warmUpSteps,
                mib(memory.heapAtEndBytes), steps, mib(memory.heapGrowthBytes), memory.directAfterWarmUpBytes,
                memory.directAtEndBytes, memory.poolNewArraysFirstStep, memory.poolNewArraysLastStep,
                memory.poolBytesAtEnd, memory.checkpointBytesAtEnd, warmUpLoss, loss);
        return loss;
    }

    /** Heap in use after full collections, once nothing is left to collect. */
    private static long collectedHeap() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, MEMORY.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    private static long directBytes() {
        long bytes = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            bytes += pool.getMemoryUsed();
        }
        return bytes;
    }

    private static double mib(long bytes) {
        return bytes / (double) (1 << 20);
    }
}
