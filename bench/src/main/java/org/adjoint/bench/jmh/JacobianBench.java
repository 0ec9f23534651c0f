package org.adjoint.bench.jmh;

import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.backend.Backends;
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
 * The cost asymmetry of the lecture: a full Jacobian of {@code f(x) = tanh(x·A)} by forward
 * mode takes one pass per input element, by reverse mode one pass per output element. For a
 * wide input and a narrow output ({@code wide-to-narrow}: 1024 → 8) reverse mode needs 8
 * passes against forward mode's 1024; for a narrow input and a wide output
 * ({@code narrow-to-wide}: 8 → 1024) it is the other way round.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow"})
public class JacobianBench {

    /** Which function: {@code wide-to-narrow} (1024 → 8) or {@code narrow-to-wide} (8 → 1024). */
    @Param({"wide-to-narrow", "narrow-to-wide"})
    public String shape;

    /** How to build the Jacobian: {@code forward} or {@code reverse}. */
    @Param({"forward", "reverse"})
    public String mode;

    private Function<Tensor, Tensor> function;
    private Tensor x;
    private Autodiff.JacobianMode jacobianMode;

    /** Creates the benchmark state; JMH calls this. */
    public JacobianBench() {
    }

    /** Draws the matrix and the point. */
    @Setup(Level.Trial)
    public void setUp() {
        Backends.use("cpu");
        boolean wide = shape.equals("wide-to-narrow");
        int in = wide ? 1024 : 8;
        int out = wide ? 8 : 1024;
        Tensor a = Tensor.randn(1, in, out).mul((float) (1 / Math.sqrt(in)));
        function = v -> v.matmul(a).tanh();
        x = Tensor.randn(2, in);
        jacobianMode = mode.equals("forward") ? Autodiff.JacobianMode.FORWARD : Autodiff.JacobianMode.REVERSE;
    }

    /**
     * One full Jacobian.
     *
     * @return the Jacobian
     */
    @Benchmark
    public Tensor jacobian() {
        return Autodiff.jacobian(function, x, jacobianMode);
    }
}
