package org.adjoint.bench.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * One training step (forward, loss, backward) of a 64-layer chain {@code h -> tanh(h·W + b)},
 * width 512, batch 256, on the CPU backend, under each checkpoint policy: the same chain and
 * the same work as {@code ./adjoint checkpoint --layers 64 --width 512 --batch 256}.
 *
 * <p>The primary score is the step time. Secondary scores give the memory:
 * {@code peakSavedBytes}, the {@link CheckpointMeter}'s high-water mark of activation bytes
 * held for the backward pass (exact, the same in every step); {@code heapPeakBytes}, the
 * JVM's own high-water mark over the iteration, the sum of the peak usage of every heap
 * memory pool, reset after a full collection when the iteration starts; and
 * {@code tenuredPeakBytes}, the same for the pools other than eden and survivor spaces, which
 * hold what outlives a young collection. The heap figures include the parameters and their
 * gradients (for G1 each 1 MiB array is a humongous object filling a 2 MiB region, about
 * 256 MiB together), the buffers the CPU backend's pool keeps for reuse, and, for the total,
 * the garbage the young generation held, whose amount follows the collector's sizing more
 * than the policy: only differences between policies speak of activations, and of those
 * {@code tenuredPeakBytes} is the steadier.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
// A step takes 0.25 to 0.6 s and calls the same GEMM 200 times or more, so C2 has compiled the
// hot loops within the first iteration; three short ones settle it. An iteration holds only 3
// to 8 steps, so five of them are measured.
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow",
        "-Xms3g", "-Xmx3g"})
public class CheckpointBench {

    /** Layers in the chain. */
    static final int LAYERS = 64;
    /** Features of every layer. */
    static final int WIDTH = 512;
    /** Rows of the input. */
    static final int BATCH = 256;
    /** Seed of layer 0's weights; layer i uses {@code SEED + i}, the input and loss follow. */
    static final long SEED = 42;

    /**
     * The policy, in the command line's spelling. The budget, 6291456 bytes, is 12 layer
     * outputs of 512 KiB: three quarters of what {@code sqrt} holds (about 2√64 = 16
     * outputs), and room for 10 slots beside one tape, or for taping several layers in one
     * sweep, so the budget planner has room to do better than {@code binomial:8}.
     */
    @Param({"none", "sqrt", "binomial:4", "binomial:8", "budget:6291456"})
    public String policy;

    private Sequential chain;
    private SGD gradients;
    private Tensor input;
    private Tensor projection;
    private CheckpointPolicy checkpointPolicy;

    /** Creates the benchmark state; JMH calls this. */
    public CheckpointBench() {
    }

    /** Makes the CPU backend current and builds the chain, its input and the loss projection. */
    @Setup(Level.Trial)
    public void setUp() {
        Backends.use("cpu");
        checkpointPolicy = CheckpointPolicy.parse(policy);
        List<Layer> layers = new ArrayList<>(LAYERS);
        for (int i = 0; i < LAYERS; i++) {
            layers.add(new Linear(WIDTH, WIDTH, Activation.TANH, SEED + i));
        }
        chain = new Sequential(layers);
        input = Tensor.randn(SEED + LAYERS, BATCH, WIDTH).requiresGrad(true);
        projection = Tensor.randn(SEED + LAYERS + 1, BATCH, WIDTH);
        List<Tensor> leaves = new ArrayList<>(chain.parameters());
        leaves.add(input);
        // Only zeroGrad() is used: it zeroes the gradients in place, as a training loop does.
        // Clearing them instead (Tensor.zeroGrad) would allocate 64 MiB of new gradient arrays
        // per step, garbage that would swamp the heap high-water mark.
        gradients = new SGD(leaves, 1f);
    }

    /**
     * One step: zero the gradients, run the chain under the policy, take
     * {@code sum(output * projection)}, backpropagate to the input and every parameter.
     *
     * @param memory where the step's meter and the heap peak are kept
     * @return the loss
     */
    @Benchmark
    public Tensor step(Memory memory) {
        gradients.zeroGrad();
        CheckpointMeter meter = memory.meter;
        meter.reset();
        Tensor loss = chain.apply(input, checkpointPolicy, meter).mul(projection).sum();
        loss.backward();
        memory.peakSaved = Math.max(memory.peakSaved, meter.peakSavedBytes());
        memory.forwardCalls = meter.layerForwardCalls();
        return loss;
    }

    /**
     * The memory figures of an iteration, reported as secondary scores, and printed after each
     * iteration as a {@code [memory]} line with the heap pools one by one.
     *
     * <p>JMH's summary table adds {@code EVENTS} counters up over the measurement iterations.
     * So that it shows the mean of an iteration instead, each counter holds its iteration's
     * value divided by the number of measurement iterations while measuring (the per-iteration
     * lines then show that fraction; the {@code [memory]} line has the whole value).
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Memory {

        private static final double MIB = 1024 * 1024;

        /** The meter's high-water mark of saved activation bytes (per measurement iteration, see above). */
        public double peakSavedBytes;
        /** Layer forward calls of one step (per measurement iteration, see above). */
        public double layerForwardCalls;
        /** Sum over the heap memory pools of their peak usage in bytes (per measurement iteration, see above). */
        public double heapPeakBytes;
        /** The same over the heap pools other than eden and survivor spaces (per measurement iteration). */
        public double tenuredPeakBytes;

        final CheckpointMeter meter = new CheckpointMeter();
        long peakSaved;
        long forwardCalls;
        private int share;

        /** Creates the counters; JMH calls this. */
        public Memory() {
        }

        /**
         * Starts the iteration at zero: collects the garbage, so that every iteration starts
         * from the live data alone, and resets the peak usage of every heap pool.
         *
         * @param iteration which iteration this is, and of how many
         */
        @Setup(Level.Iteration)
        public void reset(IterationParams iteration) {
            share = iteration.getType() == IterationType.MEASUREMENT ? iteration.getCount() : 1;
            peakSaved = 0;
            forwardCalls = 0;
            peakSavedBytes = 0;
            layerForwardCalls = 0;
            heapPeakBytes = 0;
            tenuredPeakBytes = 0;
            System.gc();
            for (MemoryPoolMXBean pool : heapPools()) {
                pool.resetPeakUsage();
            }
        }

        /** Reads the heap pools' peak usage since {@link #reset}, sets the counters and prints them. */
        @TearDown(Level.Iteration)
        public void read() {
            long heapPeak = 0;
            long tenuredPeak = 0;
            StringBuilder pools = new StringBuilder();
            for (MemoryPoolMXBean pool : heapPools()) {
                long used = pool.getPeakUsage().getUsed();
                heapPeak += used;
                if (!pool.getName().contains("Eden") && !pool.getName().contains("Survivor")) {
                    tenuredPeak += used;
                }
                pools.append(String.format(Locale.ROOT, ", %s %.1f", pool.getName(), used / MIB));
            }
            peakSavedBytes = (double) peakSaved / share;
            layerForwardCalls = (double) forwardCalls / share;
            heapPeakBytes = (double) heapPeak / share;
            tenuredPeakBytes = (double) tenuredPeak / share;
            System.out.printf(Locale.ROOT, "%n[memory] peak saved %.2f MiB, %d layer forward calls, heap peak %.1f MiB "
                    + "(%s)%n", peakSaved / MIB, forwardCalls, heapPeak / MIB, pools.substring(2));
        }

        private static List<MemoryPoolMXBean> heapPools() {
            return ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(pool -> pool.getType() == MemoryType.HEAP && pool.isValid())
                    .toList();
        }
    }
}
