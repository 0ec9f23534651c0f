package org.adjoint.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backends;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Conv2d;
import org.adjoint.nn.Functional;
import org.adjoint.nn.MaxPool2d;
import org.adjoint.nn.Sequential;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code Functional.conv2d} forward, and forward with the backward pass to the input, the
 * weight and the bias, and the same followed by a ReLU, as two operations and as
 * {@link Conv2d}'s fused primitive, at the shapes of {@code adjoint train --model cnn} at batch 64 and of
 * a ResNet block (64→64 channels, 3×3, 32×32 images, batch 32). Shapes are named
 * {@code N×C×H×W→O}, all 3×3 with padding 1 and stride 1. {@code bench/peers/conv.py} times
 * the same in PyTorch.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow",
        "-Xms2g", "-Xmx2g"})
public class ConvBench {

    /** Kernel provider of the CPU backend. */
    @Param({"vector"})
    public String provider;

    /** The convolution: the CNN's first and second layer at batch 64, a ResNet block's at batch 32. */
    @Param({"64x1x28x28-32", "64x32x14x14-64", "32x64x32x32-64"})
    public String shape;

    private Tensor input;
    private Tensor weight;
    private Tensor bias;
    private Conv2d fused;
    private Sequential pooled;
    private KernelProvider kernels;
    private int[] dims;
    private float[] x;
    private float[] dy;
    private float[] dw;

    /** Creates the benchmark state; JMH calls this. */
    public ConvBench() {
    }

    /** Makes the CPU backend current and draws the input and parameters. */
    @Setup
    public void setUp() {
        Backends.use(new CpuBackend(KernelProvider.named(provider)));
        String[] parts = shape.split("[x-]");
        int n = Integer.parseInt(parts[0]);
        int c = Integer.parseInt(parts[1]);
        int h = Integer.parseInt(parts[2]);
        int w = Integer.parseInt(parts[3]);
        int o = Integer.parseInt(parts[4]);
        input = Tensor.randn(1, n, c, h, w).requiresGrad(true);
        weight = Tensor.randn(2, o, c, 3, 3).mul((float) Math.sqrt(2.0 / (c * 9))).detach().requiresGrad(true);
        // Half the biases negative, so that the ReLU zeroes some outputs whatever the input.
        bias = Tensor.randn(3, o).mul(0.1f).detach().requiresGrad(true);
        fused = new Conv2d(weight, bias, 1, 1, 1, 1, Activation.RELU);
        pooled = new Sequential(fused, new MaxPool2d(2));
        kernels = KernelProvider.named(provider);
        dims = new int[] {n, c, h, w, o};
        SplittableRandom random = new SplittableRandom(4);
        x = new float[n * c * h * w];
        dy = new float[n * o * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) random.nextDouble(-1, 1);
        }
        dw = new float[o * c * 9];
    }

    /**
     * The weight gradient alone, straight on the kernel provider's arrays
     * ({@code conv2dWeightGrad}: the part of {@link #forwardBackward} that reads the input's windows).
     *
     * @return the weight's gradient
     */
    @Benchmark
    public float[] weightGrad() {
        kernels.conv2dWeightGrad(x, dy, dw, dims[0], dims[1], dims[2], dims[3], dims[4], 1, 3, 3, 1, 1, 1);
        return dw;
    }

    /**
     * The forward convolution, without a tape.
     *
     * @return the output
     */
    @Benchmark
    public Tensor forward() {
        try (var _ = GradMode.noGrad()) {
            return Functional.conv2d(input, weight, bias, 1, 1, 1, 1);
        }
    }

    /**
     * Forward, then backward from the sum of the output: the gradients of the input, the
     * weight and the bias.
     *
     * @return the weight's gradient
     */
    @Benchmark
    public Tensor forwardBackward() {
        input.zeroGrad();
        weight.zeroGrad();
        bias.zeroGrad();
        Functional.conv2d(input, weight, bias, 1, 1, 1, 1).sum().backward();
        return weight.grad();
    }

    /**
     * The convolution, its bias and a ReLU as three operations ({@code Functional.conv2d},
     * then {@code relu()}), without a tape: what {@link #fusedReluForward} replaces.
     *
     * @return the output
     */
    @Benchmark
    public Tensor reluForward() {
        try (var _ = GradMode.noGrad()) {
            return Functional.conv2d(input, weight, bias, 1, 1, 1, 1).relu();
        }
    }

    /**
     * The same as one fused primitive ({@code new Conv2d(weight, bias, 1, 1, 1, 1, Activation.RELU)}),
     * without a tape.
     *
     * @return the output
     */
    @Benchmark
    public Tensor fusedReluForward() {
        try (var _ = GradMode.noGrad()) {
            return fused.apply(input);
        }
    }

    /**
     * {@link #reluForward} with the backward pass from the sum of the output.
     *
     * @return the weight's gradient
     */
    @Benchmark
    public Tensor reluForwardBackward() {
        input.zeroGrad();
        weight.zeroGrad();
        bias.zeroGrad();
        Functional.conv2d(input, weight, bias, 1, 1, 1, 1).relu().sum().backward();
        return weight.grad();
    }

    /**
     * {@link #fusedReluForward} with the backward pass from the sum of the output.
     *
     * @return the weight's gradient
     */
    @Benchmark
    public Tensor fusedReluForwardBackward() {
        input.zeroGrad();
        weight.zeroGrad();
        bias.zeroGrad();
        fused.apply(input).sum().backward();
        return weight.grad();
    }

    /**
     * The fused layer, then 2 × 2 max pooling as a second primitive, forward and backward from
     * the sum of the pooled output: what {@link #pooledForwardBackward} replaces.
     *
     * @return the weight's gradient
     */
    @Benchmark
    public Tensor pairForwardBackward() {
        input.zeroGrad();
        weight.zeroGrad();
        bias.zeroGrad();
        Functional.maxPool2d(fused.apply(input), 2, 2, 0).sum().backward();
        return weight.grad();
    }

    /**
     * The layer and its pooling as one primitive (a {@link Sequential} of the two), forward and
     * backward from the sum of the pooled output.
     *
     * @return the weight's gradient
     */
    @Benchmark
    public Tensor pooledForwardBackward() {
        input.zeroGrad();
        weight.zeroGrad();
        bias.zeroGrad();
        pooled.apply(input).sum().backward();
        return weight.grad();
    }
}
