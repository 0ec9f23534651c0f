package org.adjoint.conformance;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradCheck;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every operation's gradient against central differences and through the adjoint identity,
 * on random inputs: broadcast shapes, size-1 axes, rank 0 and inputs used twice.
 */
public abstract class GradientConformance extends BackendConformance {

    private static long seed = 1;

    /** Normal samples scaled to about [-2, 2]. */
    private static Tensor normal(int... shape) {
        return Tensor.randn(seed++, shape);
    }

    /** Samples in [0.5, 2]: safe for log, sqrt, division and negative powers. */
    private static Tensor positive(int... shape) {
        return Tensor.rand(seed++, shape).mul(1.5f).add(0.5f);
    }

    /** Normal samples pushed at least 0.1 away from 0, where ReLU has its kink. */
    private static Tensor awayFromZero(int... shape) {
        float[] v = Tensor.randn(seed++, shape).toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] >= 0 ? v[i] + 0.1f : v[i] - 0.1f;
        }
        return Tensor.of(v, shape);
    }

    /** Distinct values (a permutation of a spaced grid) so that max has no near-ties. */
    private static Tensor distinct(int... shape) {
        float[] u = Tensor.rand(seed++, shape).toFloatArray();
        Integer[] order = new Integer[u.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (p, q) -> Float.compare(u[p], u[q]));
        float[] v = new float[u.length];
        for (int rank = 0; rank < order.length; rank++) {
            v[order[rank]] = rank * 0.25f - order.length * 0.125f;
        }
        return Tensor.of(v, shape);
    }

    private record Case(String name, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        @Override
        public String toString() {
            return name;
        }
    }

    // Inputs are created lazily: tensors need the backend that @BeforeEach selects.
    private static final Map<String, Supplier<Case>> CASES = new LinkedHashMap<>();

    private static void define(String name, Function<List<Tensor>, Tensor> f, Supplier<Tensor[]> inputs) {
        CASES.put(name, () -> {
            seed = name.hashCode();
            return new Case(name, f, inputs.get());
        });
    }

    static {
        define("add same shape", x -> x.get(0).add(x.get(1)),
                () -> new Tensor[] {normal(2, 3), normal(2, 3)});
        define("add row broadcast", x -> x.get(0).add(x.get(1)),
                () -> new Tensor[] {normal(2, 3), normal(3)});
        define("add column and row", x -> x.get(0).add(x.get(1)),
                () -> new Tensor[] {normal(4, 1), normal(1, 3)});
        define("add rank 0", x -> x.get(0).add(x.get(1)),
                () -> new Tensor[] {normal(2, 3), normal()});
        define("add used twice", x -> x.get(0).add(x.get(0)).add(x.get(0)),
                () -> new Tensor[] {normal(3)});
        define("add size-1 axes", x -> x.get(0).add(x.get(1)),
                () -> new Tensor[] {normal(1, 3, 1), normal(2, 1, 4)});
        define("sub broadcast", x -> x.get(0).sub(x.get(1)),
                () -> new Tensor[] {normal(3, 1), normal(2)});
        define("mul broadcast", x -> x.get(0).mul(x.get(1)),
                () -> new Tensor[] {normal(2, 3), normal(2, 1)});
        define("mul used twice", x -> x.get(0).mul(x.get(0)),
                () -> new Tensor[] {normal(5)});
        define("mul rank 0 and matrix", x -> x.get(0).mul(x.get(1)),
                () -> new Tensor[] {normal(), normal(2, 2)});
        define("div broadcast", x -> x.get(0).div(x.get(1)),
                () -> new Tensor[] {normal(2, 3), positive(3)});
        define("scalar arithmetic", x -> x.get(0).add(1.5f).mul(-2f).sub(0.25f).div(3f),
                () -> new Tensor[] {normal(2, 2)});
        define("neg", x -> x.get(0).neg(),
                () -> new Tensor[] {normal(3)});
        define("pow 3", x -> x.get(0).pow(3f),
                () -> new Tensor[] {normal(4)});
        define("pow -1.5", x -> x.get(0).pow(-1.5f),
                () -> new Tensor[] {positive(4)});
        define("pow 2 used twice", x -> x.get(0).pow(2f).mul(x.get(0)),
                () -> new Tensor[] {normal(2, 2)});
        define("exp", x -> x.get(0).exp(),
                () -> new Tensor[] {normal(2, 3)});
        define("log", x -> x.get(0).log(),
                () -> new Tensor[] {positive(2, 3)});
        define("sqrt", x -> x.get(0).sqrt(),
                () -> new Tensor[] {positive(2, 3)});
        define("tanh", x -> x.get(0).tanh(),
                () -> new Tensor[] {normal(2, 3)});
        define("sigmoid", x -> x.get(0).sigmoid(),
                () -> new Tensor[] {normal(2, 3)});
        define("relu", x -> x.get(0).relu(),
                () -> new Tensor[] {awayFromZero(2, 3)});
        define("matmul 2d", x -> x.get(0).matmul(x.get(1)),
                () -> new Tensor[] {normal(3, 4), normal(4, 2)});
        define("matmul vector-vector", x -> x.get(0).matmul(x.get(1)),
                () -> new Tensor[] {normal(4), normal(4)});
        define("matmul matrix-vector", x -> x.get(0).matmul(x.get(1)),
                () -> new Tensor[] {normal(3, 4), normal(4)});
        define("matmul vector-matrix", x -> x.get(0).matmul(x.get(1)),
                () -> new Tensor[] {normal(3), normal(3, 2)});
        define("matmul batched", x -> x.get(0).matmul(x.get(1)),
                () -> new Tensor[] {normal(2, 3, 4), normal(2, 4, 2)});
        define("matmul broadcast batch", x -> x.get(0).matmul(x.get(1)),
                () -> new Tensor[] {normal(2, 1, 2, 3), normal(3, 3, 2)});
        define("matmul stack times matrix", x -> x.get(0).matmul(x.get(1)),
                () -> new Tensor[] {normal(2, 3, 4), normal(4, 5)});
        define("matmul with itself", x -> x.get(0).matmul(x.get(0)),
                () -> new Tensor[] {normal(3, 3)});
        define("transpose", x -> x.get(0).transpose().mul(x.get(1)),
                () -> new Tensor[] {normal(2, 3, 4), normal(4, 3)});
        define("reshape", x -> x.get(0).reshape(3, -1).mul(x.get(1)),
                () -> new Tensor[] {normal(2, 6), normal(4)});
        define("sum all", x -> x.get(0).sum(),
                () -> new Tensor[] {normal(2, 3)});
        define("sum axis", x -> x.get(0).sum(1, false),
                () -> new Tensor[] {normal(2, 3, 2)});
        define("sum keepDim", x -> x.get(0).sum(0, true).mul(x.get(0)),
                () -> new Tensor[] {normal(3, 2)});
        define("mean all", x -> x.get(0).mean(),
                () -> new Tensor[] {normal(4, 2)});
        define("mean axis", x -> x.get(0).mean(-1, false),
                () -> new Tensor[] {normal(3, 4)});
        define("max axis", x -> x.get(0).max(1, false),
                () -> new Tensor[] {distinct(3, 4)});
        define("max keepDim", x -> x.get(0).max(0, true).mul(x.get(0)),
                () -> new Tensor[] {distinct(3, 2)});
        define("softmax", x -> x.get(0).softmax(-1),
                () -> new Tensor[] {normal(3, 4)});
        define("softmax axis 0", x -> x.get(0).softmax(0),
                () -> new Tensor[] {normal(3, 2, 2)});
        define("logSoftmax", x -> x.get(0).logSoftmax(1),
                () -> new Tensor[] {normal(3, 5)});
        define("rank 0 chain", x -> x.get(0).mul(x.get(1)).exp().add(x.get(0)).tanh(),
                () -> new Tensor[] {normal(), normal()});
        define("mlp layer", x -> x.get(0).matmul(x.get(1)).add(x.get(2)).tanh().logSoftmax(1).mean(),
                () -> new Tensor[] {normal(4, 3), normal(3, 5), normal(5)});
    }

    static Stream<String> cases() {
        return CASES.keySet().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesCentralDifferences(String name) {
        Case c = CASES.get(name).get();
        GradCheck.finiteDifferences(c.f(), List.of(c.inputs())).assertPassed();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void satisfiesTheAdjointIdentity(String name) {
        Case c = CASES.get(name).get();
        for (long s = 1; s <= 3; s++) {
            GradCheck.adjointIdentity(c.f(), List.of(c.inputs()), s).assertPassed();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardModeAgreesWithReverseModeAndCentralDifferences(String name) {
        Case c = CASES.get(name).get();
        GradCheck.forwardMode(c.f(), List.of(c.inputs()), 5).assertPassed();
    }

    /** The checks must be able to fail: detach() hides half of the derivative of x·x from backward. */
    @Test
    void checksRejectAWrongGradient() {
        Function<List<Tensor>, Tensor> halfHidden = x -> x.get(0).detach().mul(x.get(0));
        List<Tensor> at = List.of(Tensor.of(new float[] {1, -2, 3}));
        GradCheck.Report fd = GradCheck.finiteDifferences(halfHidden, at);
        Assertions.assertFalse(fd.passed(), fd.toString());
        GradCheck.Report adjoint = GradCheck.adjointIdentity(halfHidden, at, 1);
        Assertions.assertFalse(adjoint.passed(), adjoint.toString());
        Assertions.assertThrows(AssertionError.class, fd::assertPassed);
    }

    /** A non-finite gradient never passes, even against a non-finite bound. */
    @Test
    void checksRejectNonFiniteGradients() {
        GradCheck.Report report = GradCheck.finiteDifferences(x -> x.get(0).sqrt(), List.of(Tensor.of(new float[] {0, 1})));
        Assertions.assertFalse(report.passed(), report.toString());
    }
}
