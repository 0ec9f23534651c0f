package org.adjoint.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.kernels.KernelProvider;
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
 * The CPU backend's 2×2 max pooling (forward with the argmax, and the scatter of its VJP) and
 * the convolution weight gradient at the shapes of {@code adjoint train --model cnn} at batch
 * 64: pooling {@code 64×32×28×28} and {@code 64×64×14×14}, the weight gradient of the first
 * layer ({@code 1→32}, 28×28) and the second ({@code 32→64}, 14×14), 3×3 with padding 1. Run
 * with {@code -jvmArgsAppend -Dadjoint.cpu.threads=1} to time one core on a shared machine.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow",
        "-Xms1g", "-Xmx1g"})
public class PoolBench {

    /** Kernel provider of the CPU backend. */
    @Param({"vector"})
    public String provider;

    /** The layer: {@code N×C×H×W}; pooling halves it, the weight gradient's outputs are {@code 2·C} (32 for C = 1). */
    @Param({"64x1x28x28", "64x32x14x14"})
    public String shape;

    private CpuBackend backend;
    private ConvGeometry pool;
    private ConvGeometry conv;
    private int images;
    private int outputs;
    private Buffer poolInput;
    private Buffer values;
    private Buffer argmax;
    private Buffer poolGrad;
    private Buffer poolInputGrad;
    private Buffer convInput;
    private Buffer convOutputGrad;
    private Buffer weightGrad;

    /** Creates the benchmark state; JMH calls this. */
    public PoolBench() {
    }

    /** Draws the inputs; the pooled layer is the convolution's output (32 or 64 channels). */
    @Setup
    public void setUp() {
        backend = new CpuBackend(KernelProvider.named(provider));
        String[] parts = shape.split("x");
        images = Integer.parseInt(parts[0]);
        int c = Integer.parseInt(parts[1]);
        int h = Integer.parseInt(parts[2]);
        int w = Integer.parseInt(parts[3]);
        outputs = c == 1 ? 32 : 2 * c;
        conv = new ConvGeometry(c, h, w, 3, 3, 1, 1, 1);
        pool = new ConvGeometry(outputs, h, w, 2, 2, 2, 0, 1);
        poolInput = backend.upload(random(1, images * outputs * h * w));
        values = backend.allocate((long) images * outputs * h * w / 4);
        argmax = backend.allocate((long) images * outputs * h * w / 4);
        poolGrad = backend.upload(random(2, images * outputs * h * w / 4));
        poolInputGrad = backend.allocate((long) images * outputs * h * w);
        backend.maxPool(poolInput, pool, images, values, argmax);
        convInput = backend.upload(random(3, images * c * h * w));
        convOutputGrad = backend.upload(random(4, images * outputs * h * w));
        weightGrad = backend.allocate((long) outputs * c * 9);
    }

    private static float[] random(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextGaussian();
        }
        return out;
    }

    /**
     * Max pooling of the layer's output with the argmax.
     *
     * @return the values
     */
    @Benchmark
    public Buffer maxPool() {
        backend.maxPool(poolInput, pool, images, values, argmax);
        return values;
    }

    /**
     * The VJP of max pooling: the cotangent spread through the argmax.
     *
     * @return the input's gradient
     */
    @Benchmark
    public Buffer maxPoolScatter() {
        backend.maxPoolScatter(poolGrad, argmax, pool, images, poolInputGrad);
        return poolInputGrad;
    }

    /**
     * The convolution's weight gradient.
     *
     * @return the weight's gradient
     */
    @Benchmark
    public Buffer weightGrad() {
        backend.conv2dWeightGrad(convInput, convOutputGrad, conv, images, outputs, 1, weightGrad);
        return weightGrad;
    }
}
