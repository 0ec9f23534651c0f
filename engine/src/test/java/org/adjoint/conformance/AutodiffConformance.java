package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.CustomFunction;
import org.adjoint.autodiff.Functions;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.autodiff.GradMode;
import org.junit.jupiter.api.Test;

/** The functional transforms: forward mode, higher orders, Jacobians and custom rules. */
public abstract class AutodiffConformance extends BackendConformance {

    private static Tensor wg() {
        return Tensor.of(new float[] {2, 1, 1, 2}, 2, 2);
    }

    private static Tensor wf() {
        return Tensor.of(new float[] {1, 2, 1, 1}, 2, 2);
    }

    private static Tensor basis(int index, int... shape) {
        int size = 1;
        for (int d : shape) {
            size *= d;
        }
        float[] e = new float[size];
        e[index] = 1;
        return Tensor.of(e, shape);
    }

    /** Jacobian with respect to a 2×2 weight built column by column with jvp: the lecture's layout. */
    private static float[] forwardJacobian(UnaryOperator<Tensor> f, Tensor w) {
        int outputs = (int) f.apply(w).size();
        float[] jacobian = new float[outputs * 4];
        for (int k = 0; k < 4; k++) {
            float[] column = Autodiff.jvp(f, w, basis(k, 2, 2)).tangent().toFloatArray();
            for (int o = 0; o < outputs; o++) {
                jacobian[o * 4 + k] = column[o];
            }
        }
        return jacobian;
    }

    @Test
    void example1ThroughForwardMode() {
        Tensor x = vec(2, 1);
        assertTensor(Tensor.of(forwardJacobian(w -> w.matmul(x), wg()), 2, 4), shape(2, 4), 2, 1, 0, 0, 0, 0, 2, 1);
        assertTensor(Tensor.of(forwardJacobian(w -> wf().matmul(w.matmul(x)), wg()), 2, 4), shape(2, 4),
                2, 1, 4, 2, 2, 1, 2, 1);
        Tensor z = wg().matmul(x);
        assertTensor(Tensor.of(forwardJacobian(w -> w.matmul(z), wf()), 2, 4), shape(2, 4), 5, 4, 0, 0, 0, 0, 5, 4);
        var jvp = Autodiff.jvp(w -> wf().matmul(w.matmul(x)), wg(), basis(0, 2, 2));
        assertTensor(jvp.value(), shape(2), 13, 9);
    }

    private static Tensor[] example2() {
        return new Tensor[] {
            Tensor.of(new float[] {1, 1, 1, 1}, 2, 2), Tensor.of(new float[] {1, 2, 1, 1}, 2, 2),
            Tensor.of(new float[] {1, 1, 2, 1}, 2, 2), Tensor.of(new float[] {2, 1}, 1, 2)};
    }

    /** h_layers as a function of weight {@code i} (the others fixed). */
    private static UnaryOperator<Tensor> upTo(int layers, int i) {
        return w -> {
            Tensor[] ws = example2();
            ws[i] = w;
            Tensor h = vec(1, 1);
            for (int l = 0; l < layers; l++) {
                h = ws[l].matmul(h);
            }
            return h;
        };
    }

    @Test
    void example2ThroughForwardMode() {
        Tensor[] ws = example2();
        // Tangents after layer 3 (Ŵ1, Ŵ2, Ŵ3), then just before the loss.
        assertTensor(Tensor.of(forwardJacobian(upTo(3, 0), ws[0]), 2, 4), shape(2, 4), 2, 2, 3, 3, 3, 3, 5, 5);
        assertTensor(Tensor.of(forwardJacobian(upTo(3, 1), ws[1]), 2, 4), shape(2, 4), 2, 2, 2, 2, 4, 4, 2, 2);
        assertTensor(Tensor.of(forwardJacobian(upTo(3, 2), ws[2]), 2, 4), shape(2, 4), 6, 4, 0, 0, 0, 0, 6, 4);
        assertTensor(Tensor.of(forwardJacobian(upTo(4, 0), ws[0]), 4), shape(4), 7, 7, 11, 11);
        assertTensor(Tensor.of(forwardJacobian(upTo(4, 1), ws[1]), 4), shape(4), 8, 8, 6, 6);
        assertTensor(Tensor.of(forwardJacobian(upTo(4, 2), ws[2]), 4), shape(4), 12, 8, 6, 4);
        float[] w4 = new float[2];
        for (int k = 0; k < 2; k++) {
            float[] e = new float[2];
            e[k] = 1;
            w4[k] = Autodiff.jvp(upTo(4, 3), ws[3], Tensor.of(e, 1, 2)).tangent().item();
        }
        assertTensor(Tensor.of(w4), shape(2), 10, 16);
        // The final gradients, by forward mode: dl/dWi = 2 (h4 − 2) · dh4/dWi, with y = 2.
        float[][] expected = {{476, 476, 748, 748}, {544, 544, 408, 408}, {816, 544, 408, 272}};
        for (int i = 0; i < 3; i++) {
            int index = i;
            UnaryOperator<Tensor> loss = w -> upTo(4, index).apply(w).sub(2f).pow(2f).sum();
            assertTensor(Tensor.of(forwardJacobian(loss, ws[i]), 4), shape(4), expected[i]);
        }
    }

    @Test
    void jacobianOfALayerByItsWeightHasTheLectureLayout() {
        Tensor x = vec(3, 5);
        Tensor forward = Autodiff.jacobian(w -> w.matmul(x), wg(), Autodiff.JacobianMode.FORWARD);
        Tensor reverse = Autodiff.jacobian(w -> w.matmul(x), wg(), Autodiff.JacobianMode.REVERSE);
        assertTensor(forward, shape(2, 2, 2), 3, 5, 0, 0, 0, 0, 3, 5);
        assertTensor(reverse, shape(2, 2, 2), 3, 5, 0, 0, 0, 0, 3, 5);
        assertTensor(Autodiff.jacobian(w -> w.matmul(x), wg()), shape(2, 2, 2), 3, 5, 0, 0, 0, 0, 3, 5);
    }

    @Test
    void jacobianOfSeveralInputs() {
        List<Tensor> jacobians = Autodiff.jacobian(in -> in.get(0).mul(in.get(1)), List.of(vec(1, 2), vec(3, 4)));
        assertTensor(jacobians.get(0), shape(2, 2), 3, 0, 0, 4);
        assertTensor(jacobians.get(1), shape(2, 2), 1, 0, 0, 2);
    }

    private record Derivatives(String name, UnaryOperator<Tensor> f, DoubleUnaryOperator d1, DoubleUnaryOperator d2,
                               DoubleUnaryOperator d3, float[] points) {
    }

    private static double sig(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void secondAndThirdDerivativesMatchClosedForms() {
        List<Derivatives> cases = List.of(
                new Derivatives("tanh", Tensor::tanh, x -> 1 - Math.pow(Math.tanh(x), 2),
                        x -> -2 * Math.tanh(x) * (1 - Math.pow(Math.tanh(x), 2)),
                        x -> -2 * (1 - Math.pow(Math.tanh(x), 2)) * (1 - 3 * Math.pow(Math.tanh(x), 2)),
                        new float[] {-1.5f, -0.3f, 0f, 0.7f, 2f}),
                new Derivatives("exp", Tensor::exp, Math::exp, Math::exp, Math::exp, new float[] {-2f, 0f, 0.5f, 1.5f}),
                new Derivatives("log", Tensor::log, x -> 1 / x, x -> -1 / (x * x), x -> 2 / (x * x * x),
                        new float[] {0.5f, 1f, 2f, 4f}),
                new Derivatives("sigmoid", Tensor::sigmoid, x -> sig(x) * (1 - sig(x)),
                        x -> sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
                        x -> sig(x) * (1 - sig(x)) * (1 - 6 * sig(x) + 6 * sig(x) * sig(x)),
                        new float[] {-2f, -0.5f, 0f, 1f, 3f}));
        for (Derivatives c : cases) {
            Tensor x = Tensor.of(c.points());
            Function<Tensor, Tensor> first = v -> Autodiff.grad(u -> c.f().apply(u).sum(), v);
            Function<Tensor, Tensor> second = v -> Autodiff.grad(u -> first.apply(u).sum(), v);
            Function<Tensor, Tensor> third = v -> Autodiff.grad(u -> second.apply(u).sum(), v);
            float[] d1 = first.apply(x).toFloatArray();
            float[] d2 = second.apply(x).toFloatArray();
            float[] d3 = third.apply(x).toFloatArray();
            for (int i = 0; i < c.points().length; i++) {
                double p = c.points()[i];
                assertEquals(c.d1().applyAsDouble(p), d1[i], 1e-5 * (1 + Math.abs(c.d1().applyAsDouble(p))), c.name() + "' at " + p);
                assertEquals(c.d2().applyAsDouble(p), d2[i], 1e-5 * (1 + Math.abs(c.d2().applyAsDouble(p))), c.name() + "'' at " + p);
                assertEquals(c.d3().applyAsDouble(p), d3[i], 1e-4 * (1 + Math.abs(c.d3().applyAsDouble(p))), c.name() + "''' at " + p);
            }
        }
    }

    @Test
    void hessianVectorProductsMatchCentralDifferencesOfTheGradient() {
        Tensor w = Tensor.randn(3, 3, 4).mul(0.5f);
        Function<Tensor, Tensor> f = x -> x.matmul(w).tanh().pow(2f).sum().add(x.exp().sum());
        Tensor x = Tensor.randn(1, 2, 3).mul(0.5f);
        Tensor v = Tensor.randn(2, 2, 3);
        float[] hv = Autodiff.hvp(f, x, v).toFloatArray();
        double h = 1e-2;
        float[] plus = Autodiff.grad(f, x.add(v.mul((float) h))).toFloatArray();
        float[] minus = Autodiff.grad(f, x.sub(v.mul((float) h))).toFloatArray();
        for (int i = 0; i < hv.length; i++) {
            double numeric = (plus[i] - minus[i]) / (2 * h);
            assertEquals(numeric, hv[i], 2e-2 * (1 + Math.abs(numeric)), "element " + i);
        }
        // Hv of a quadratic is exact: f = ½ xᵀ A x with A symmetric gives A v.
        Tensor a = Tensor.of(new float[] {2, 1, 1, 3}, 2, 2);
        assertClose(Autodiff.hvp(y -> y.matmul(a).mul(y).sum().mul(0.5f), vec(1, -1), vec(1, 2)), shape(2), 1e-5f, 4, 7);
    }

    @Test
    void transformsLeaveLeafGradientsAlone() {
        Tensor p = vec(1, 2).requiresGrad(true);
        Tensor g = Autodiff.grad(x -> x.mul(p).sum(), vec(3, 4));
        assertTensor(g, shape(2), 1, 2);
        assertNull(p.grad());
        List<Tensor> both = Autodiff.grad(in -> in.get(0).mul(in.get(1)).sum(), List.of(vec(3, 4), p));
        assertTensor(both.get(1), shape(2), 3, 4);
        assertNull(p.grad());
    }

    @Test
    void vjpPullsBackAnyCotangentRepeatedly() {
        var vjp = Autodiff.vjp(x -> x.mul(x), vec(1, 2, 3));
        assertTensor(vjp.value(), shape(3), 1, 4, 9);
        assertTensor(vjp.pullback().apply(vec(1, 0, 0)), shape(3), 2, 0, 0);
        assertTensor(vjp.pullback().apply(vec(0, 1, 1)), shape(3), 0, 4, 6);
    }

    @Test
    void jvpRecordsNothing() {
        Tensor x = vec(1, 2).requiresGrad(false);
        var jvp = Autodiff.jvp(t -> t.exp().sum(), x, vec(1, 1));
        assertEquals(false, jvp.value().requiresGrad());
        assertClose(jvp.tangent(), shape(), 1e-5f, (float) (Math.exp(1) + Math.exp(2)));
    }

    /** Found through a checkpoint's backward pass inside hvp, which is now refused; any backward() can get here. */
    @Test
    void aBackwardPassInsideAForwardModePassAccumulatesIntoLeaves() {
        Tensor w = vec(1, 2, 3).requiresGrad(true);
        var jvp = Autodiff.jvp(t -> {
            try (var _ = GradMode.enableGrad()) {
                w.mul(w).sum().backward();
            }
            return t.mul(t);
        }, vec(1, 2), vec(1, 1));
        assertTensor(w.grad(), shape(3), 2, 4, 6);
        assertTensor(jvp.tangent(), shape(2), 2, 4);
    }

    @Test
    void customLogSumExpIsStableAndDifferentiable() {
        Tensor x = Tensor.of(new float[] {1000, 1001, 1002, -1, 0, 1}, 2, 3);
        float expected = (float) (1002 + Math.log(Math.exp(-2) + Math.exp(-1) + 1));
        assertClose(Functions.logSumExp(x, 1), shape(2), 1e-3f, expected, expected - 1001);
        List<Tensor> at = List.of(Tensor.randn(4, 3, 5));
        GradCheck.finiteDifferences(in -> Functions.logSumExp(in.get(0), -1), at).assertPassed();
        GradCheck.forwardMode(in -> Functions.logSumExp(in.get(0), 0), at, 3).assertPassed();
        // Second derivative through the custom rule: d²/dx² lse([x, 0]) = σ(x)(1 − σ(x)).
        Function<Tensor, Tensor> lse = v -> Functions.logSumExp(v.reshape(1).matmul(Tensor.of(new float[] {1, 0}, 1, 2)), 0);
        Tensor second = Autodiff.grad(v -> Autodiff.grad(u -> lse.apply(u).sum(), v).sum(), Tensor.scalar(0.5f));
        assertEquals(sig(0.5) * (1 - sig(0.5)), second.item(), 1e-5);
    }

    @Test
    void customFunctionsCheckTheirRules() {
        CustomFunction wrongShape = new CustomFunction() {
            @Override
            protected Tensor forward(Context ctx, List<Tensor> inputs) {
                return inputs.get(0).sum();
            }

            @Override
            protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
                return cotangent;
            }
        };
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor y = wrongShape.apply(x);
        var error = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(error.getMessage().endsWith("$1.vjp returned shape [] for input 0 of shape [2]"), error.getMessage());
        var noJvp = assertThrows(UnsupportedOperationException.class,
                () -> Autodiff.jvp(v -> wrongShape.apply(v), vec(1, 2), vec(1, 1)));
        assertTrue(noJvp.getMessage().endsWith("$1 has no JVP rule for forward mode"), noJvp.getMessage());
        CustomFunction nothing = new CustomFunction() {
            @Override
            protected Tensor forward(Context ctx, List<Tensor> inputs) {
                return null;
            }

            @Override
            protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
                return cotangent;
            }
        };
        var none = assertThrows(IllegalStateException.class, () -> nothing.apply(vec(1, 2)));
        assertTrue(none.getMessage().endsWith("$2: forward returned null; it must return the output tensor"),
                none.getMessage());
    }

    @Test
    void gradCheckToleranceRefusesAStepOrBoundThatWouldMisjudge() {
        assertEquals("GradCheck.Tolerance: step must be finite and > 0, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> new GradCheck.Tolerance(0, 1e-3, 1e-2)).getMessage());
        assertEquals("GradCheck.Tolerance: absolute must be finite and >= 0, got Infinity",
                assertThrows(IllegalArgumentException.class,
                        () -> new GradCheck.Tolerance(1e-2, Double.POSITIVE_INFINITY, 1e-2)).getMessage());
        assertEquals("GradCheck.Tolerance: relative must be finite and >= 0, got NaN",
                assertThrows(IllegalArgumentException.class,
                        () -> new GradCheck.Tolerance(1e-2, 1e-3, Double.NaN)).getMessage());
    }

    @Test
    void gradCheckMeasuresTheStepThatRoundingLeaves() {
        // At 1e5 a float's spacing is 1/128: x ± 0.01·v moves by a rounded amount, tens of percent
        // off. The shift back to [-1, 1] is exact, so the outputs carry no such error of their own.
        Function<List<Tensor>, Tensor> square = in -> in.get(0).mul(in.get(0)).sum();
        Function<List<Tensor>, Tensor> shifted = in -> in.get(0).sub(99999.5f).tanh().sum();
        List<Tensor> large = List.of(Tensor.of(new float[] {100000f, 99999.25f, 100000.5f, 99998.75f}));
        for (long seed = 1; seed <= 8; seed++) {
            GradCheck.adjointIdentity(shifted, large, seed).assertPassed();
            GradCheck.forwardMode(shifted, large, seed).assertPassed();
        }
        // Where the step leaves no trace at all, the check refuses rather than blaming the gradient.
        List<Tensor> huge = List.of(Tensor.of(new float[] {1e6f}));
        assertEquals("GradCheck.finiteDifferences: the step 0.01 vanishes at input 0, element 0 (value 1000000.0): "
                + "x + h and x - h round to the same float; use a larger step",
                assertThrows(IllegalArgumentException.class, () -> GradCheck.finiteDifferences(square, huge)).getMessage());
        Function<List<Tensor>, Tensor> both = in -> in.get(0).mul(in.get(1)).sum();
        assertEquals("GradCheck.adjointIdentity: the step 0.01 vanishes at input 1 (every x ± h·v rounds to x); "
                + "use a larger step", assertThrows(IllegalArgumentException.class, () -> GradCheck.adjointIdentity(both,
                        List.of(Tensor.of(new float[] {1f}), Tensor.of(new float[] {1e9f})), 4)).getMessage());
    }

    @Test
    void badInputIsRefusedWithTheShapes() {
        var tangent = assertThrows(IllegalArgumentException.class, () -> Autodiff.jvp(Tensor::exp, vec(1, 2), vec(1, 2, 3)));
        assertEquals("jvp: tangent 0 has shape [3] but its input has shape [2]", tangent.getMessage());
        var grad = assertThrows(IllegalArgumentException.class, () -> Autodiff.grad(Tensor::exp, vec(1, 2)));
        assertEquals("grad: the function's output has shape [2] (2 elements); grad needs exactly one (use vjp or jacobian)",
                grad.getMessage());
        var hvp = assertThrows(IllegalArgumentException.class, () -> Autodiff.hvp(Tensor::exp, vec(1, 2), vec(1, 1)));
        assertEquals("hvp: the function's output has shape [2] (2 elements); a Hessian-vector product needs exactly one",
                hvp.getMessage());
        var cotangent = assertThrows(IllegalArgumentException.class,
                () -> Autodiff.vjp(Tensor::exp, vec(1, 2)).pullback().apply(vec(1)));
        assertEquals("vjp: cotangent of shape [1] does not match the output's shape [2]", cotangent.getMessage());
        assertEquals("vjp: the cotangent is null; pass a tensor of the output's shape [2]",
                assertThrows(IllegalArgumentException.class,
                        () -> Autodiff.vjp(Tensor::exp, vec(1, 2)).pullback().apply(null)).getMessage());
        assertEquals("vjp: the function returned null; it must return a tensor",
                assertThrows(IllegalStateException.class, () -> Autodiff.grad(v -> null, vec(1, 2))).getMessage());
        assertEquals("jvp: tangent 0 is null; pass a tensor of its input's shape [2]",
                assertThrows(IllegalArgumentException.class,
                        () -> Autodiff.jvp(Tensor::exp, vec(1, 2), null)).getMessage());
        assertEquals("jvp: the function returned null; it must return a tensor",
                assertThrows(IllegalStateException.class, () -> Autodiff.jvp(v -> null, vec(1, 2), vec(1, 1)))
                        .getMessage());
        // Every transform names itself, and a null input or direction, before any work.
        assertEquals("hvp: direction 0 is null; pass a tensor of its input's shape [2]",
                assertThrows(IllegalArgumentException.class,
                        () -> Autodiff.hvp(x -> x.mul(x).sum(), vec(1, 2), null)).getMessage());
        assertEquals("hvp: direction 0 has shape [3] but its input has shape [2]",
                assertThrows(IllegalArgumentException.class,
                        () -> Autodiff.hvp(x -> x.mul(x).sum(), vec(1, 2), vec(1, 2, 3))).getMessage());
        assertEquals("hvp: 1 inputs but 2 directions", assertThrows(IllegalArgumentException.class,
                () -> Autodiff.hvp(xs -> xs.get(0).sum(), List.of(vec(1, 2)), List.of(vec(1, 1), vec(1, 1))))
                .getMessage());
        assertEquals("hvp: the function returned null; it must return a tensor",
                assertThrows(IllegalStateException.class, () -> Autodiff.hvp(x -> null, vec(1, 2), vec(1, 1)))
                        .getMessage());
        assertEquals("jacobian: the function returned null; it must return a tensor",
                assertThrows(IllegalStateException.class, () -> Autodiff.jacobian(x -> null, vec(1, 2))).getMessage());
        UnaryOperator<Tensor> exp = Tensor::exp;
        for (var call : List.<org.junit.jupiter.api.function.Executable>of(() -> Autodiff.grad((Tensor v) -> v.sum(),
                null), () -> Autodiff.vjp(exp::apply, (Tensor) null), () -> Autodiff.jvp(exp::apply, null, vec(1)),
                () -> Autodiff.jacobian(exp::apply, (Tensor) null))) {
            assertTrue(assertThrows(IllegalArgumentException.class, call).getMessage().endsWith(": input 0 is null"));
        }
        assertEquals("grad: input 0 is null",
                assertThrows(IllegalArgumentException.class, () -> Autodiff.grad((Tensor v) -> v.sum(), (Tensor) null))
                        .getMessage());
    }

    @Test
    void jvpOfAFunctionThatReturnsItsInput() {
        assertTensor(Autodiff.jvp(x -> x, vec(1, 2), vec(3, 4)).tangent(), shape(2), 3, 4);
        assertTensor(Autodiff.jvp(xs -> xs.get(1), List.of(vec(1, 2), vec(5, 6)), List.of(vec(1, 1), vec(7, 8))).tangent(),
                shape(2), 7, 8);
        assertTensor(Autodiff.jacobian(x -> x, vec(1, 2)), shape(2, 2), 1, 0, 0, 1);
    }

    @Test
    void jvpLeavesNoTangentBehind() {
        Tensor c = Autodiff.jvp(x -> x.mul(2f), vec(1, 2), vec(1, 1)).value();
        assertTensor(Autodiff.jvp(z -> z.mul(c), vec(1, 1), vec(0, 0)).tangent(), shape(2), 0, 0);
        Tensor x = vec(1, 2);
        assertThrows(IllegalArgumentException.class,
                () -> Autodiff.jvp(xs -> xs.get(0).add(xs.get(1)), List.of(x, vec(1, 2)), List.of(vec(5, 5), vec(1, 2, 3))));
        assertTensor(Autodiff.jvp(z -> z.mul(x), vec(1, 1), vec(0, 0)).tangent(), shape(2), 0, 0);
    }

    @Test
    void theSameTensorPassedTwiceCarriesBothTangents() {
        Tensor x = vec(1, 2);
        assertTensor(Autodiff.jvp(xs -> xs.get(0).add(xs.get(1)), List.of(x, x), List.of(vec(1, 1), vec(10, 10))).tangent(),
                shape(2), 11, 11);
    }

    @Test
    void jacobiansWithRankZeroInputsAndOutputs() {
        assertTensor(Autodiff.jacobian(t -> t.mul(t).sum(), vec(1, 2, 3)), shape(3), 2, 4, 6);
        assertTensor(Autodiff.jacobian(t -> vec(1, 2, 3).mul(t), Tensor.scalar(2f)), shape(3), 1, 2, 3);
        assertTensor(Autodiff.jacobian(t -> t.mul(t), Tensor.scalar(2f), Autodiff.JacobianMode.REVERSE), shape(), 4);
        assertTensor(Autodiff.jacobian(t -> t.mul(t), Tensor.scalar(2f), Autodiff.JacobianMode.FORWARD), shape(), 4);
    }

    @Test
    void reverseModeOverForwardModeIsRefusedRatherThanZero() {
        var error = assertThrows(UnsupportedOperationException.class,
                () -> Autodiff.grad(t -> Autodiff.jvp(u -> u.mul(u).sum(), t, vec(1, 2)).tangent(), vec(1, 2)));
        assertTrue(error.getMessage().startsWith("jvp: input 0 requires a gradient, and reverse mode over forward mode"),
                error.getMessage());
        Tensor p = vec(1, 2).requiresGrad(true);
        assertClose(Autodiff.hvp(u -> u.mul(u).mul(u).sum(), p, vec(1, 1)), shape(2), 1e-5f, 6, 12);
    }

    @Test
    void jvpRefusesAnInputThatRequiresAGradient() {
        Tensor p = vec(1, 2).requiresGrad(true);
        var error = assertThrows(UnsupportedOperationException.class, () -> Autodiff.jvp(u -> u.mul(u), p, vec(1, 1)));
        assertTrue(error.getMessage().startsWith("jvp: input 0 requires a gradient"), error.getMessage());
        assertTrue(error.getMessage().endsWith("or call jvp on detached inputs"), error.getMessage());
        Autodiff.Jvp detached = Autodiff.jvp(u -> u.mul(u), p.detach(), vec(1, 1));
        assertClose(detached.tangent(), shape(2), 0f, 2, 4);
    }

    /** A function with a VJP rule and no JVP rule: reverse mode works on it, forward mode throws. */
    private static final class ReverseOnly extends CustomFunction {
        @Override
        protected Tensor forward(Context ctx, List<Tensor> inputs) {
            ctx.save(inputs.get(0));
            return inputs.get(0).mul(3f);
        }

        @Override
        protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
            return cotangent.mul(3f);
        }
    }

    @Test
    void jacobianPicksForwardModeForFewInputsAndReverseModeForFewOutputs() {
        ReverseOnly f = new ReverseOnly();
        // Three inputs, one output: reverse mode (one backward pass), which the function has.
        Tensor rowJacobian = Autodiff.jacobian(x -> f.apply(x).sum(), vec(1, 2, 3));
        assertClose(rowJacobian, shape(3), 0f, 3, 3, 3);
        // Two inputs, two outputs: at most as many inputs as outputs, so forward mode, which it lacks.
        var forward = assertThrows(UnsupportedOperationException.class, () -> Autodiff.jacobian(x -> f.apply(x), vec(1, 2)));
        assertTrue(forward.getMessage().endsWith("has no JVP rule for forward mode"), forward.getMessage());
        Tensor square = Autodiff.jacobian(x -> f.apply(x), vec(1, 2), Autodiff.JacobianMode.REVERSE);
        assertClose(square, shape(2, 2), 0f, 3, 0, 0, 3);
    }
}
