package org.adjoint.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.adjoint.kernels.ElementWise;
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
 * The GPT's element-wise passes on one thread ({@code -Dadjoint.cpu.threads=1}, so the figure
 * is the kernel's and not the second core's availability): GELU forward, and its derivative
 * times the incoming gradient (the fused VJP), over {@code 768 × 512 = 393,216} floats, the
 * MLP hidden layer of {@code adjoint lm} (batch 12, context 64, width 4·128). Arguments are
 * normal, as pre-activations are. And softmax over the same number of scores in rows of
 * {@link #keys}, without and with a causal mask of −∞.
 *
 * <p>A short run:
 * {@code java --add-modules jdk.incubator.vector -cp bench/target/adjoint.jar org.openjdk.jmh.Main ElementWiseBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--sun-misc-unsafe-memory-access=allow",
        "-Dadjoint.cpu.threads=1", "-Xms1g", "-Xmx1g"})
public class ElementWiseBench {

    /** Kernel provider: {@code vector} or {@code scalar}. */
    @Param({"vector"})
    public String provider;

    /** Elements per pass. */
    @Param({"393216"})
    public int size;

    /** Row length of the softmax benchmarks: the key count of a causal attention's score rows. */
    @Param({"256"})
    public int keys;

    private KernelProvider kernels;
    private float[] x;
    private float[] grad;
    private float[] out;
    private float[] scores;
    private float[] causalScores;

    /** Creates the benchmark state; JMH calls this. */
    public ElementWiseBench() {
    }

    /** Picks the provider and draws the arguments. */
    @Setup
    public void setUp() {
        kernels = KernelProvider.named(provider);
        SplittableRandom random = new SplittableRandom(17);
        x = new float[size];
        grad = new float[size];
        out = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) normal(random);
            grad[i] = (float) normal(random) * 1e-3f;
        }
        // size / keys rows of scores; in the causal copy row r keeps its first r % keys + 1
        // entries and the rest are −∞, as a masked fill leaves them before the softmax.
        scores = new float[size / keys * keys];
        causalScores = new float[scores.length];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = (float) normal(random);
            causalScores[i] = i % keys > i / keys % keys ? Float.NEGATIVE_INFINITY : scores[i];
        }
    }

    private static double normal(SplittableRandom random) {
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    /**
     * GELU forward.
     *
     * @return the output, so the work is not dropped
     */
    @Benchmark
    public float[] gelu() {
        kernels.unary(ElementWise.Unary.GELU, 0f, x, 0, out, 0, size);
        return out;
    }

    /**
     * GELU's derivative times a gradient in one pass (the GELU VJP).
     *
     * @return the output, so the work is not dropped
     */
    @Benchmark
    public float[] geluGradTimes() {
        kernels.unaryTimes(ElementWise.Unary.GELU_GRAD, x, grad, out, size);
        return out;
    }

    /**
     * Softmax along rows of {@link #keys} normal scores.
     *
     * @return the output, so the work is not dropped
     */
    @Benchmark
    public float[] softmax() {
        kernels.softmax(scores, scores.length / keys, keys, 1, false, out);
        return out;
    }

    /**
     * Softmax along the same rows with a causal mask of −∞ (about half the entries): the
     * exponential of a masked entry is 0, and it should cost what any other entry does.
     *
     * @return the output, so the work is not dropped
     */
    @Benchmark
    public float[] softmaxCausal() {
        kernels.softmax(causalScores, causalScores.length / keys, keys, 1, false, out);
        return out;
    }
}
