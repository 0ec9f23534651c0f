package org.adjoint.bench.jmh;

import java.util.concurrent.TimeUnit;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backends;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.internal.ops.Attention;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.nn.Functional;
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
 * Causal self-attention, {@code Functional.scaledDotProductAttention} (the fused primitive:
 * blocked online softmax forward, a backward that recomputes the probabilities from the
 * log-sum-exp) against the plain composition of matmul, mask, softmax and matmul
 * ({@code Attention.reference}), forward alone and forward with the backward pass to the
 * query, key and value, on {@code [12, 4, T, 32]} operands (the GPT's batch of 12 with 4
 * heads of width 32) at {@code T} = 64, 256 and 1024.
 *
 * <p>The composed version holds {@code 12·4·T·T} scores several times over (scores, masked,
 * probabilities, and their gradients): 48 Mi floats each at {@code T = 1024}. Bytes allocated
 * per operation, the point of the fusion, come from JMH's GC profiler:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/adjoint.jar org.openjdk.jmh.Main AttentionBench -prof gc
 * </pre>
 * ({@code gc.alloc.rate.norm} is the heap bytes per operation; CPU buffers come from the
 * backend's pool, so after warm-up the composed version's score buffers are reused rather
 * than allocated: compare the peak heap, or run with a small {@code -Xmx} to see which fits).
 * A short smoke run: {@code -wi 1 -i 1 -w 1s -r 1s -p length=64}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow",
        "-Xms4g", "-Xmx4g"})
public class AttentionBench {

    /** Kernel provider of the CPU backend. */
    @Param({"vector"})
    public String provider;

    /** Sequence length {@code T}. */
    @Param({"64", "256", "1024"})
    public int length;

    /** {@code fused} (the primitive) or {@code composed} (matmul, mask, softmax, matmul). */
    @Param({"fused", "composed"})
    public String implementation;

    private Tensor query;
    private Tensor key;
    private Tensor value;

    /** Creates the benchmark state; JMH calls this. */
    public AttentionBench() {
    }

    /** Makes the CPU backend current and draws the operands. */
    @Setup
    public void setUp() {
        Backends.use(new CpuBackend(KernelProvider.named(provider)));
        query = Tensor.randn(1, 12, 4, length, 32).requiresGrad(true);
        key = Tensor.randn(2, 12, 4, length, 32).requiresGrad(true);
        value = Tensor.randn(3, 12, 4, length, 32).requiresGrad(true);
    }

    private Tensor attention() {
        return implementation.equals("fused") ? Functional.scaledDotProductAttention(query, key, value, true)
                : Attention.reference(query, key, value, true);
    }

    /**
     * Causal attention without a tape.
     *
     * @return the output
     */
    @Benchmark
    public Tensor forward() {
        try (var _ = GradMode.noGrad()) {
            return attention();
        }
    }

    /**
     * Forward, then backward from the sum of the output: the gradients of the query, the key
     * and the value.
     *
     * @return the query's gradient
     */
    @Benchmark
    public Tensor forwardBackward() {
        query.zeroGrad();
        key.zeroGrad();
        value.zeroGrad();
        attention().sum().backward();
        return query.grad();
    }
}
