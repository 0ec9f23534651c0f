package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.nn.Functional;
import org.adjoint.nn.GELU;
import org.adjoint.nn.LayerNorm;
import org.junit.jupiter.api.Test;

/**
 * Exact {@link Tensor#gelu()} and {@link Functional#layerNorm} (with {@link LayerNorm}) on
 * every backend: values, first and second derivatives against PyTorch 1.13
 * ({@code reference/normalization_reference.py}, computed in float64); finite differences, the
 * adjoint identity, forward mode and Hessian-vector products; the fused backward pass against
 * the recorded one; views; and the errors.
 */
public abstract class NormalizationConformance extends BackendConformance {

    private static final String REFERENCE = "/org/adjoint/conformance/reference/normalization_reference.safetensors";

    /** The PyTorch values, read once per test (tensors are created on the current backend). */
    private static Map<String, Tensor> reference() {
        return ReferenceFiles.load(REFERENCE);
    }

    private static Tensor copyOf(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }

    /** Within {@code relative·|expected| + absolute}, element by element. */
    private static void assertNear(Tensor expected, Tensor actual, double relative, double absolute, String label) {
        assertArrayEquals(expected.shape(), actual.shape(), label + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= relative * Math.abs(e[i]) + absolute)) {
                fail(label + ", element " + i + ": expected " + e[i] + " but was " + a[i]);
            }
        }
    }

    // ---------------------------------------------------------------------------------- gelu

    @Test
    void geluMatchesPyTorchIncludingTheTails() {
        Map<String, Tensor> ref = reference();
        Tensor x = copyOf(ref.get("gelu.x")).requiresGrad(true);
        Tensor y = x.gelu();
        // Relative to each value, down to the smallest normal floats: the negative tail keeps its digits.
        assertNear(ref.get("gelu.y"), y, 2e-6, 1e-37, "gelu");
        y.sum().backward();
        assertNear(ref.get("gelu.grad"), x.grad(), 2e-6, 1e-7, "gelu gradient");
        Tensor second = Autodiff.grad(v -> Autodiff.grad(w -> w.gelu().sum(), v).sum(), copyOf(ref.get("gelu.x")));
        assertNear(ref.get("gelu.grad2"), second, 2e-5, 1e-7, "gelu second derivative");
        float[] values = y.toFloatArray();
        assertTrue(values[0] < 0f && values[0] > -1e-30f, "gelu(-14) = -14·Φ(-14) ≈ -1e-43 is not 0: " + values[0]);
    }

    @Test
    void geluGradientsThreeWaysAndTwice() {
        Tensor x = Tensor.randn(5, 3, 7).mul(2f);
        Function<List<Tensor>, Tensor> f = args -> args.get(0).gelu();
        GradCheck.finiteDifferences(f, List.of(x)).assertPassed();
        GradCheck.adjointIdentity(f, List.of(x), 6).assertPassed();
        GradCheck.forwardMode(f, List.of(x), 7).assertPassed();
        Tensor v = Tensor.randn(8, 3, 7);
        Tensor hv = Autodiff.hvp(t -> t.gelu().sum(), x, v);
        // The Hessian of a sum of gelus is diagonal: φ(x)·(2 − x²).
        float[] xs = x.toFloatArray();
        float[] vs = v.toFloatArray();
        float[] expected = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            double density = Math.exp(-0.5 * xs[i] * xs[i]) / Math.sqrt(2 * Math.PI);
            expected[i] = (float) (density * (2 - xs[i] * xs[i]) * vs[i]);
        }
        assertClose(hv, shape(3, 7), 1e-5, expected);
    }

    @Test
    void geluOfAViewAndTheModules() {
        Tensor x = Tensor.randn(9, 4, 6);
        assertArrayEquals(x.transpose().reshape(6, 4).gelu().toFloatArray(),
                Tensor.of(x.transpose().toFloatArray(), 6, 4).gelu().toFloatArray());
        assertArrayEquals(x.gelu().toFloatArray(), new GELU().apply(x).toFloatArray());
        assertTrue(GELU.tanh().isTanhForm());
    }

    // ----------------------------------------------------------------------------- layerNorm

    /** A reference case: its axes count, whether it has a weight and a bias, and eps. */
    private record Case(String name, int axes, boolean weight, boolean bias, float eps) {
    }

    private static final List<Case> CASES = List.of(
            new Case("last", 1, true, true, 1e-5f),
            new Case("several", 2, true, true, 1e-5f),
            new Case("plain", 1, false, false, 1e-5f),
            new Case("weightOnly", 1, true, false, 1e-3f),
            new Case("biasOnly", 3, false, true, 1e-5f),
            new Case("all", 2, true, true, 1e-5f),
            new Case("wide", 1, true, true, 1e-5f),
            new Case("shifted", 1, true, true, 1e-5f),
            new Case("constantRows", 1, true, true, 1e-2f));

    @Test
    void layerNormMatchesPyTorch() {
        Map<String, Tensor> ref = reference();
        for (Case c : CASES) {
            String name = c.name();
            Tensor x = copyOf(ref.get(name + ".x")).requiresGrad(true);
            Tensor weight = c.weight() ? copyOf(ref.get(name + ".weight")).requiresGrad(true) : null;
            Tensor bias = c.bias() ? copyOf(ref.get(name + ".bias")).requiresGrad(true) : null;
            Tensor y = Functional.layerNorm(x, c.axes(), weight, bias, c.eps());
            y.mul(copyOf(ref.get(name + ".u"))).sum().backward();
            double tolerance = 1e-5 * (1 + Math.sqrt(x.size() / (double) x.shape()[0]) / 4);
            assertNear(ref.get(name + ".y"), y, tolerance, tolerance, name + " output");
            assertNear(ref.get(name + ".grad_x"), x.grad(), tolerance, tolerance, name + " input gradient");
            if (c.weight()) {
                assertNear(ref.get(name + ".grad_weight"), weight.grad(), tolerance, tolerance,
                        name + " weight gradient");
            }
            if (c.bias()) {
                assertNear(ref.get(name + ".grad_bias"), bias.grad(), tolerance, tolerance, name + " bias gradient");
            }
        }
    }

    /** Inputs for the gradient checks: an odd normalised shape, each operand requiring a gradient. */
    private static List<Tensor> operands(boolean weight, boolean bias) {
        List<Tensor> inputs = new ArrayList<>(List.of(Tensor.randn(21, 2, 3, 5).mul(1.5f).add(0.3f)));
        if (weight) {
            inputs.add(Tensor.randn(22, 3, 5).mul(0.5f).add(1f));
        }
        if (bias) {
            inputs.add(Tensor.randn(23, 3, 5));
        }
        return inputs;
    }

    private static Function<List<Tensor>, Tensor> layerNorm(boolean weight, boolean bias) {
        return args -> Functional.layerNorm(args.get(0), 2, weight ? args.get(1) : null,
                bias ? args.get(weight ? 2 : 1) : null, 1e-5f);
    }

    @Test
    void layerNormGradientsThreeWaysWithAndWithoutTheAffine() {
        boolean[][] variants = {{true, true}, {false, false}, {true, false}, {false, true}};
        long seed = 30;
        for (boolean[] variant : variants) {
            List<Tensor> inputs = operands(variant[0], variant[1]);
            Function<List<Tensor>, Tensor> f = layerNorm(variant[0], variant[1]);
            // A weighted sum, so that the gradient is not the zero that a plain sum of a normalised row gives.
            Tensor u = Tensor.randn(seed++, 2, 3, 5);
            GradCheck.finiteDifferences(args -> f.apply(args).mul(u), inputs).assertPassed();
            GradCheck.adjointIdentity(f, inputs, seed++).assertPassed();
            GradCheck.forwardMode(f, inputs, seed++).assertPassed();
        }
    }

    @Test
    void layerNormSecondDerivativesAndHessianVectorProducts() {
        List<Tensor> inputs = operands(true, true);
        Tensor u = Tensor.randn(40, 2, 3, 5);
        Function<List<Tensor>, Tensor> loss = args -> layerNorm(true, true).apply(args).mul(u).pow(2f).sum();
        // The recorded backward pass differentiates again, through the statistics too.
        GradCheck.finiteDifferences(args -> Autodiff.grad(loss, args).get(0), inputs).assertPassed();
        GradCheck.finiteDifferences(args -> Autodiff.grad(loss, args).get(1), inputs).assertPassed();
        List<Tensor> directions = List.of(Tensor.randn(41, 2, 3, 5), Tensor.randn(42, 3, 5), Tensor.randn(43, 3, 5));
        List<Tensor> hv = Autodiff.hvp(loss, inputs, directions);
        // Against central differences of the (fused) gradient along the directions.
        float h = 1e-2f;
        List<Tensor> plus = new ArrayList<>();
        List<Tensor> minus = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            plus.add(inputs.get(i).add(directions.get(i).mul(h)));
            minus.add(inputs.get(i).sub(directions.get(i).mul(h)));
        }
        List<Tensor> gradPlus = Autodiff.grad(loss, plus);
        List<Tensor> gradMinus = Autodiff.grad(loss, minus);
        for (int i = 0; i < inputs.size(); i++) {
            float[] expected = gradPlus.get(i).sub(gradMinus.get(i)).div(2 * h).toFloatArray();
            float[] actual = hv.get(i).toFloatArray();
            double scale = 0;
            for (float e : expected) {
                scale = Math.max(scale, Math.abs(e));
            }
            for (int k = 0; k < expected.length; k++) {
                if (!(Math.abs(expected[k] - actual[k]) <= 1e-2 * scale)) {
                    fail("hvp input " + i + " element " + k + ": differences " + expected[k] + ", hvp " + actual[k]);
                }
            }
        }
    }

    @Test
    void theFusedBackwardMatchesTheRecordedOne() {
        List<Tensor> inputs = operands(true, true);
        Tensor u = Tensor.randn(50, 2, 3, 5);
        Function<List<Tensor>, Tensor> loss = args -> layerNorm(true, true).apply(args).mul(u).sum();
        List<Tensor> fused = Autodiff.grad(loss, inputs);
        // Under forward mode the backward pass is recorded, so the composed rules run instead of the kernels.
        List<Tensor> zero = List.of(Tensor.zeros(2, 3, 5), Tensor.zeros(3, 5), Tensor.zeros(3, 5));
        for (int i = 0; i < inputs.size(); i++) {
            int index = i;
            Tensor recorded = Autodiff.jvp(args -> Autodiff.grad(loss, args).get(index), inputs, zero).value();
            float[] expected = fused.get(i).toFloatArray();
            assertClose(recorded, fused.get(i).shape(), 1e-5, expected);
        }
    }

    @Test
    void layerNormOfAViewEqualsThatOfItsCopy() {
        Tensor x = Tensor.randn(60, 7, 5);
        Tensor view = x.transpose();
        Tensor copy = Tensor.of(view.toFloatArray(), 5, 7);
        Tensor weight = Tensor.randn(61, 7);
        assertClose(Functional.layerNorm(view, 1, weight, null, 1e-5f), shape(5, 7), 1e-6,
                Functional.layerNorm(copy, 1, weight, null, 1e-5f).toFloatArray());
    }

    @Test
    void rowsOfOneElementAndEmptyInputs() {
        Tensor column = Tensor.of(new float[] {3f, -2f, 7f}, 3, 1);
        Tensor y = Functional.layerNorm(column, 1, null, Tensor.of(new float[] {0.5f}), 1e-5f);
        assertTensor(y, shape(3, 1), 0.5f, 0.5f, 0.5f);
        Tensor empty = Functional.layerNorm(Tensor.zeros(0, 4), 1, Tensor.ones(4), Tensor.zeros(4), 1e-5f);
        assertArrayEquals(new int[] {0, 4}, empty.shape());
    }

    @Test
    void theModuleHasPyTorchsParametersAndChecksItsInput() {
        Map<String, Tensor> ref = reference();
        LayerNorm norm = new LayerNorm(5, 6);
        assertEquals(List.of("weight", "bias"), List.copyOf(norm.namedParameters().keySet()));
        assertArrayEquals(ref.get("module.state.weight").toFloatArray(), norm.weight().toFloatArray());
        assertArrayEquals(ref.get("module.state.bias").toFloatArray(), norm.bias().toFloatArray());
        assertArrayEquals(new int[] {5, 6}, norm.weight().shape());
        assertTrue(norm.weight().requiresGrad() && norm.bias().requiresGrad());
        Tensor x = Tensor.randn(70, 2, 5, 6);
        assertArrayEquals(Functional.layerNorm(x, 2, norm.weight(), norm.bias(), 1e-5f).toFloatArray(),
                norm.apply(x).toFloatArray());
        assertEquals("LayerNorm((5, 6), eps=1.0E-5, elementwise_affine=true)", norm.toString());
        LayerNorm plain = new LayerNorm(new int[] {6}, 1e-3f, false);
        assertTrue(plain.namedParameters().isEmpty());
        assertNull(plain.weight());
        assertArrayEquals(Functional.layerNorm(x, 1, null, null, 1e-3f).toFloatArray(), plain.apply(x).toFloatArray());
        var wrong = assertThrows(IllegalArgumentException.class, () -> norm.apply(Tensor.zeros(2, 6, 5)));
        assertEquals("LayerNorm[5, 6]: expected input [..., 5, 6], got [2, 6, 5]", wrong.getMessage());
        var empty = assertThrows(IllegalArgumentException.class, () -> new LayerNorm());
        assertEquals("LayerNorm: the normalized shape must have at least one axis, got []", empty.getMessage());
        var zero = assertThrows(IllegalArgumentException.class, () -> new LayerNorm(4, 0));
        assertEquals("LayerNorm: the normalized shape must have positive lengths, got [4, 0]", zero.getMessage());
    }

    @Test
    void badArgumentsNameTheShapes() {
        Tensor x = Tensor.zeros(2, 3, 4);
        var axes = assertThrows(IllegalArgumentException.class, () -> Functional.layerNorm(x, 4, null, null, 1e-5f));
        assertEquals("layerNorm: normalizedAxes must be in [1, 3] for input [2, 3, 4], got 4", axes.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> Functional.layerNorm(x, 0, null, null, 1e-5f));
        assertEquals("layerNorm: normalizedAxes must be in [1, 3] for input [2, 3, 4], got 0", none.getMessage());
        var weight = assertThrows(IllegalArgumentException.class,
                () -> Functional.layerNorm(x, 2, Tensor.ones(4, 3), null, 1e-5f));
        assertEquals("layerNorm: weight has shape [4, 3] but the normalized shape of input [2, 3, 4] is [3, 4]",
                weight.getMessage());
        var bias = assertThrows(IllegalArgumentException.class,
                () -> Functional.layerNorm(x, 1, null, Tensor.zeros(1, 4), 1e-5f));
        assertEquals("layerNorm: bias has shape [1, 4] but the normalized shape of input [2, 3, 4] is [4]",
                bias.getMessage());
        var eps = assertThrows(IllegalArgumentException.class, () -> Functional.layerNorm(x, 1, null, null, -1f));
        assertEquals("layerNorm: eps must be finite and >= 0, got -1.0", eps.getMessage());
        var nan = assertThrows(IllegalArgumentException.class, () -> Functional.layerNorm(x, 1, null, null, Float.NaN));
        assertEquals("layerNorm: eps must be finite and >= 0, got NaN", nan.getMessage());
        var input = assertThrows(IllegalArgumentException.class,
                () -> Functional.layerNorm(null, 1, null, null, 1e-5f));
        assertEquals("layerNorm: input is null", input.getMessage());
    }
}
