package org.adjoint.bench.jmh;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backends;
import org.adjoint.bench.MlpWorkload;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.optim.SGD;
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
 * One training step of a 784-1024-1024-1024-10 MLP with ReLU at batch 256 on the CPU backend:
 * forward, softmax cross-entropy, backward, and a plain SGD update, on fixed random inputs and
 * labels so that every step does the same work. {@code bench/peers/peers.py} times the same
 * step in PyTorch ({@code nn.Linear}, {@code F.cross_entropy}, {@code optim.SGD}).
 *
 * <p>{@link #step()} is how Adjoint is meant to be used: {@link Linear} layers (GEMM, bias and
 * ReLU fused), {@link Losses#crossEntropy} (fused) and {@link SGD} (in place).
 * {@link #stepComposite()} builds the same step from plain tensor operations and makes new
 * parameter tensors each step, which shows what the fusions and the in-place update save.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
// The vector step needs 6 to 8 s before C2 has compiled the Vector API paths and it settles.
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow",
        "-Xms2g", "-Xmx2g"})
public class MlpStepBench {

    /** Layer widths, input first. */
    static final int[] WIDTHS = {784, 1024, 1024, 1024, 10};
    /** Rows per step. */
    static final int BATCH = 256;
    /** SGD step size; small, so that a long run neither diverges nor underflows. */
    static final float LEARNING_RATE = 0.01f;

    /** Kernel provider of the CPU backend: {@code vector} or {@code scalar}. */
    @Param({"vector", "scalar"})
    public String provider;

    private MlpWorkload workload;
    private Tensor inputs;
    private Tensor oneHotTargets;
    private SGD optimizer;
    private List<Tensor> parameters;

    /** Creates the benchmark state; JMH calls this. */
    public MlpStepBench() {
    }

    /** Makes a CPU backend on the provider current, then draws the data and He-initialised weights. */
    @Setup(Level.Trial)
    public void setUp() {
        Backends.use(new CpuBackend(KernelProvider.named(provider)));
        workload = MlpWorkload.create(WIDTHS, BATCH, 7);
        int classes = WIDTHS[WIDTHS.length - 1];
        float[] oneHot = new float[BATCH * classes];
        for (int row = 0; row < BATCH; row++) {
            oneHot[row * classes + workload.labels()[row]] = 1f;
        }
        inputs = workload.inputs();
        oneHotTargets = Tensor.of(oneHot, BATCH, classes);
        parameters = new ArrayList<>(workload.parameters());
        optimizer = new SGD(parameters, LEARNING_RATE);
    }

    /**
     * Forward, backward and SGD update with the fused layers and the in-place optimizer.
     *
     * @return the loss before the update
     */
    @Benchmark
    public Tensor step() {
        return workload.step(optimizer);
    }

    /**
     * The same step from plain tensor operations: matmul, add, relu, log-softmax against
     * one-hot targets, and parameters replaced by new tensors.
     *
     * @return the loss before the update
     */
    @Benchmark
    public Tensor stepComposite() {
        Tensor h = inputs;
        int count = parameters.size() / 2;
        for (int layer = 0; layer < count; layer++) {
            h = h.matmul(parameters.get(2 * layer)).add(parameters.get(2 * layer + 1));
            if (layer + 1 < count) {
                h = h.relu();
            }
        }
        Tensor loss = h.logSoftmax(1).mul(oneHotTargets).sum(1, false).mean().neg();
        loss.backward();
        List<Tensor> updated = new ArrayList<>(parameters.size());
        try (var _ = GradMode.noGrad()) {
            for (Tensor p : parameters) {
                updated.add(p.sub(p.grad().mul(LEARNING_RATE)).detach().requiresGrad(true));
            }
        }
        parameters = updated;
        return loss;
    }
}
