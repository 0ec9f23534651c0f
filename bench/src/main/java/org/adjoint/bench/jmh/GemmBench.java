package org.adjoint.bench.jmh;

import java.util.concurrent.TimeUnit;

import org.adjoint.bench.UniformData;
import org.adjoint.kernels.KernelProvider;
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
 * SGEMM throughput of a kernel provider, called directly on {@code float[]} with
 * {@code alpha = 1}, {@code beta = 0}: square sizes and the products of one training step of
 * the 784-1024-1024-1024-10 MLP at batch 256 (forward {@code X·W}, weight gradient
 * {@code Xᵀ·dY}, input gradient {@code dY·Wᵀ}), shapes as {@link GemmShape} names them.
 *
 * <p>The primary score is products per second; the secondary score {@code gflop} is the same
 * in GFLOP/s ({@code 2·m·n·k} per product). {@code bench/compare.sh} sets these next to
 * OpenBLAS and PyTorch.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// Short iterations, since the scalar provider needs seconds per 2048³ product; five warm-up
// iterations, since the vector kernels measured 10-30 % slow in the second and third seconds.
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow",
        "-Xms1g", "-Xmx1g"})
public class GemmBench {

    /** Kernel provider: {@code vector} or {@code scalar}. */
    @Param({"vector", "scalar"})
    public String provider;

    /** The product, in the notation of {@link GemmShape#parse(String)}. */
    @Param({"256", "512", "1024", "2048",
            "nn:256x784x1024", "nn:256x1024x1024", "nn:256x1024x10",
            "tn:784x256x1024", "tn:1024x256x1024", "tn:1024x256x10",
            "nt:256x1024x784", "nt:256x1024x1024", "nt:256x10x1024"})
    public String shape;

    private KernelProvider kernels;
    private GemmShape gemm;
    private float[] a;
    private float[] b;
    private float[] c;

    /** Creates the benchmark state; JMH calls this. */
    public GemmBench() {
    }

    /** Loads the provider and fills A and B with uniform values in {@code [-1, 1)}. */
    @Setup(Level.Trial)
    public void setUp() {
        kernels = KernelProvider.named(provider);
        gemm = GemmShape.parse(shape);
        a = UniformData.floats(gemm.m() * gemm.k(), 42);
        b = UniformData.floats(gemm.k() * gemm.n(), 43);
        c = new float[gemm.m() * gemm.n()];
    }

    /**
     * One product {@code C = op(A)·op(B)}.
     *
     * @param flops the GFLOP counter reported as the secondary score
     * @return C, so that the product is not dead code
     */
    @Benchmark
    public float[] sgemm(Flops flops) {
        kernels.sgemm(gemm.transA(), gemm.transB(), gemm.m(), gemm.n(), gemm.k(), 1f,
                a, 0, gemm.lda(), b, 0, gemm.ldb(), 0f, c, 0, gemm.n());
        flops.gflop += gemm.flops() * 1e-9;
        return c;
    }

    /**
     * GFLOP done in an iteration; JMH divides by the iteration's time, so the secondary score
     * {@code gflop} reads as GFLOP/s.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {

        /** GFLOP done so far in this iteration. */
        public double gflop;

        /** Creates the counter; JMH calls this. */
        public Flops() {
        }

        /** Starts each iteration at zero. */
        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
        }
    }
}
