package org.adjoint.conformance;

import static org.adjoint.conformance.StructureConformance.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;

import java.util.function.UnaryOperator;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Anomaly;
import org.adjoint.autodiff.AnomalyException;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.CustomFunction;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backends;
import org.adjoint.internal.ops.MatMul;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;

/** What {@code backward()} promises: accumulation, ordering, freeing, seeds, scopes. */
public abstract class BackwardConformance extends BackendConformance {

    @Test
    void gradientsOfATensorUsedSeveralTimesAreSummed() {
        Tensor x = vec(1, 2, 3).requiresGrad(true);
        Tensor y = x.mul(x).add(x.mul(3)).sum(); // d/dx = 2x + 3
        y.backward();
        assertTensor(x.grad(), shape(3), 5, 7, 9);
    }

    @Test
    void diamondGraphRunsEachNodeOnceAfterAllItsConsumers() {
        Tensor x = Tensor.scalar(2).requiresGrad(true);
        Tensor a = x.mul(x);            // 4
        Tensor b = a.exp().mul(a);      // a e^a
        Tensor c = a.add(b).add(a.mul(a));
        c.backward();                   // dc/da = 1 + e^a (1 + a) + 2a, da/dx = 2x
        double expected = (1 + Math.exp(4) * 5 + 8) * 4;
        assertEquals(expected, x.grad().item(), expected * 1e-6);
    }

    /**
     * An unrecorded backward pass computes relu's and gelu's cotangents in one kernel
     * ({@code unaryTimes}); a recorded one (inside an outer differentiation) composes the
     * derivative and a product. Both give the same bits, signed zeros included.
     */
    @Test
    void reluAndGeluCotangentsInOnePassHaveTheBitsOfTheRecordedRule() {
        int n = 1031; // not a whole number of vectors, more than one
        float[] data = new float[n];
        float[] seed = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = i % 11 == 0 ? (i % 2 == 0 ? 0f : -0f) : (float) Math.sin(i * 0.37) * 6f;
            seed[i] = (float) Math.cos(i * 0.91) * 2f;
        }
        List<UnaryOperator<Tensor>> functions = List.of(Tensor::relu, Tensor::gelu);
        for (int f = 0; f < functions.size(); f++) {
            UnaryOperator<Tensor> function = functions.get(f);
            Tensor x = Tensor.of(data, shape(n)).requiresGrad(true);
            function.apply(x).backward(Tensor.of(seed, shape(n)));
            float[] onePass = x.grad().toFloatArray();
            Tensor outer = Tensor.of(data, shape(n)).requiresGrad(true);
            float[] recorded = Autodiff.vjp(function, outer).pullback().apply(Tensor.of(seed, shape(n)))
                    .toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(recorded[i]), Float.floatToIntBits(onePass[i]),
                        (f == 0 ? "relu" : "gelu") + " cotangent " + i + ": " + onePass[i] + " against " + recorded[i]);
            }
        }
    }

    /**
     * A product whose operands both need a gradient computes the two in one backend call
     * ({@code gemmPair}, which may run them side by side) when the pass is not recorded: the
     * gradients have the bits of the two products computed alone, for every way of storing the
     * operands, small and large (the CPU's threads split the large ones); a recorded pass (an
     * outer differentiation's inputs) computes them one at a time, with the same bits; an operand without a gradient asks for
     * no pair.
     */
    @Test
    void bothOperandsOfAProductGetTheirGradientsFromOnePairWithTheBitsOfTwoProducts() {
        int[][] sizes = {{13, 7, 9}, {256, 128, 160}};
        for (int[] size : sizes) {
            int m = size[0];
            int k = size[1];
            int n = size[2];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    String label = "m=" + m + " k=" + k + " n=" + n + (ta ? " Aᵀ" : " A") + (tb ? "·Bᵀ" : "·B");
                    Tensor a0 = Tensor.of(waves(m * k, 0.37), ta ? shape(k, m) : shape(m, k));
                    Tensor b0 = Tensor.of(waves(k * n, 0.53), tb ? shape(n, k) : shape(k, n));
                    Tensor g = Tensor.of(waves(m * n, 0.71), shape(m, n));
                    Tensor expectedA = ta ? MatMul.apply(b0, g, tb, true) : MatMul.apply(g, b0, false, !tb);
                    Tensor expectedB = tb ? MatMul.apply(g, a0, true, ta) : MatMul.apply(a0, g, !ta, false);
                    CountingBackend counting = new CountingBackend(backend());
                    Backends.use(counting.backend());
                    try {
                        Tensor a = Tensor.of(a0.toFloatArray(), a0.shape()).requiresGrad(true);
                        Tensor b = Tensor.of(b0.toFloatArray(), b0.shape()).requiresGrad(true);
                        MatMul.apply(a, b, ta, tb).backward(Tensor.of(g.toFloatArray(), g.shape()));
                        assertEquals(1, counting.calls("gemmPair"), label + ": gemmPair calls");
                        assertSameBits(expectedA, a.grad(), label + ", A's gradient in one pass");
                        assertSameBits(expectedB, b.grad(), label + ", B's gradient in one pass");
                        List<Tensor> recorded = Autodiff.vjp(xs -> MatMul.apply(xs.get(0), xs.get(1), ta, tb),
                                List.of(a.detach().requiresGrad(true), b.detach().requiresGrad(true))).pullback().apply(Tensor.of(g.toFloatArray(), g.shape()));
                        assertEquals(1, counting.calls("gemmPair"), label + ": gemmPair calls after a recorded pass");
                        assertSameBits(expectedA, recorded.get(0), label + ", A's gradient recorded");
                        assertSameBits(expectedB, recorded.get(1), label + ", B's gradient recorded");
                        Tensor c = Tensor.of(a0.toFloatArray(), a0.shape());
                        Tensor d = Tensor.of(b0.toFloatArray(), b0.shape()).requiresGrad(true);
                        MatMul.apply(c, d, ta, tb).backward(Tensor.of(g.toFloatArray(), g.shape()));
                        assertEquals(1, counting.calls("gemmPair"), label + ": gemmPair calls with one operand's gradient");
                        assertSameBits(expectedB, d.grad(), label + ", B's gradient alone");
                    } finally {
                        Backends.use(backend());
                    }
                }
            }
        }
    }

    /**
     * A linear layer's input and weight gradients come from one pair in a pass that is not
     * recorded, its bias gradient from its own rule: all three with the bits of a recorded pass.
     */
    @Test
    void aLinearLayersInputAndWeightGradientsComeFromOnePair() {
        int rows = 192;
        int in = 96;
        int out = 240;
        float[] x0 = waves(rows * in, 0.29);
        float[] w0 = waves(in * out, 0.61);
        float[] bias0 = waves(out, 0.83);
        float[] seed = waves(rows * out, 0.47);
        CountingBackend counting = new CountingBackend(backend());
        Backends.use(counting.backend());
        try {
            Tensor x = Tensor.of(x0, shape(rows, in)).requiresGrad(true);
            Tensor w = Tensor.of(w0, shape(in, out)).requiresGrad(true);
            Tensor bias = Tensor.of(bias0, shape(out)).requiresGrad(true);
            new Linear(w, bias, Activation.TANH).apply(x).backward(Tensor.of(seed, shape(rows, out)));
            assertEquals(1, counting.calls("gemmPair"), "gemmPair calls");
            List<Tensor> recorded = Autodiff.vjp(
                    xs -> new Linear(xs.get(1), xs.get(2), Activation.TANH).apply(xs.get(0)),
                    List.of(Tensor.of(x0, shape(rows, in)).requiresGrad(true), Tensor.of(w0, shape(in, out)).requiresGrad(true),
                            Tensor.of(bias0, shape(out)).requiresGrad(true)))
                    .pullback().apply(Tensor.of(seed, shape(rows, out)));
            assertEquals(1, counting.calls("gemmPair"), "gemmPair calls after a recorded pass");
            assertSameBits(recorded.get(0), x.grad(), "input gradient");
            assertSameBits(recorded.get(1), w.grad(), "weight gradient");
            assertSameBits(recorded.get(2), bias.grad(), "bias gradient");
        } finally {
            Backends.use(backend());
        }
    }

    /**
     * A pair in a pass that is not recorded gives the bits of a recorded pass where the operands
     * are one tensor, a transposed view, batches of matrices, or a layer without bias or
     * activation; a second pass over a kept graph adds the same gradients again (where each
     * leaf takes one contribution a pass); and a product
     * with one operand that needs no gradient asks for no pair.
     */
    @Test
    void pairsGiveTheRecordedPassesBitsForSharedViewedAndBatchedOperands() {
        List<int[][]> shapes = List.of(new int[][] {{40, 40}}, new int[][] {{30, 20}, {30, 25}},
                new int[][] {{3, 20, 30}, {3, 30, 25}}, new int[][] {{24, 36}, {36, 28}});
        List<java.util.function.Function<List<Tensor>, Tensor>> functions = List.of(
                xs -> xs.get(0).matmul(xs.get(0)),
                xs -> xs.get(0).transpose().matmul(xs.get(1)),
                xs -> xs.get(0).matmul(xs.get(1)),
                xs -> new Linear(xs.get(1), null, Activation.IDENTITY).apply(xs.get(0)));
        String[] names = {"x·x", "aᵀ·b", "batched a·b", "linear without bias"};
        for (int f = 0; f < functions.size(); f++) {
            int[][] inputShapes = shapes.get(f);
            List<Tensor> leaves = new ArrayList<>();
            for (int i = 0; i < inputShapes.length; i++) {
                int size = 1;
                for (int d : inputShapes[i]) {
                    size *= d;
                }
                leaves.add(Tensor.of(waves(size, 0.31 + 0.2 * i), inputShapes[i]));
            }
            Tensor value = functions.get(f).apply(leaves);
            Tensor seed = Tensor.of(waves((int) value.size(), 0.67), value.shape());
            List<Tensor> outer = new ArrayList<>();
            for (Tensor leaf : leaves) {
                outer.add(leaf.detach().requiresGrad(true));
            }
            List<Tensor> recorded = Autodiff.vjp(functions.get(f), outer).pullback().apply(seed);
            CountingBackend counting = new CountingBackend(backend());
            Backends.use(counting.backend());
            try {
                List<Tensor> xs = new ArrayList<>();
                for (Tensor leaf : leaves) {
                    xs.add(Tensor.of(leaf.toFloatArray(), leaf.shape()).requiresGrad(true));
                }
                Tensor here = Tensor.of(seed.toFloatArray(), seed.shape());
                Tensor y = functions.get(f).apply(xs);
                y.backward(here, true);
                assertEquals(1, counting.calls("gemmPair"), names[f] + ": gemmPair calls");
                for (int i = 0; i < xs.size(); i++) {
                    assertSameBits(recorded.get(i), xs.get(i).grad(), names[f] + ": gradient " + i);
                }
                y.backward(here);
                assertEquals(2, counting.calls("gemmPair"), names[f] + ": gemmPair calls after a second pass");
                // x·x's leaf takes two contributions a pass, added one at a time: not twice the first pass's sum.
                for (int i = 0; i < (f == 0 ? 0 : xs.size()); i++) {
                    assertSameBits(recorded.get(i).add(recorded.get(i)), xs.get(i).grad(),
                            names[f] + ": gradient " + i + " after a second pass");
                }
                Tensor constant = Tensor.of(leaves.getLast().toFloatArray(), leaves.getLast().shape());
                List<Tensor> half = new ArrayList<>(xs.subList(0, xs.size() - 1));
                half.add(constant);
                if (xs.size() > 1) {
                    functions.get(f).apply(half).backward(here);
                    assertEquals(2, counting.calls("gemmPair"), names[f] + ": gemmPair calls with one operand's gradient");
                }
            } finally {
                Backends.use(backend());
            }
        }
    }

    /**
     * A pass that fails between a product's two gradients (anomaly mode refusing the first)
     * keeps neither for the next pass: the retry computes both again from the values as they are
     * then, so an operand changed in place since the forward pass is refused, not answered with
     * the gradient the failed pass had computed.
     */
    @Test
    void aPassThatFailsBetweenAProductsGradientsKeepsNeitherForTheNext() {
        Tensor x = Tensor.of(new float[] {1e-30f, 2e-30f, 3e-30f, 4e-30f}, shape(2, 2)).requiresGrad(true);
        x.sum().backward();
        // W's huge entries overflow x's gradient (g·Wᵀ) while the layer's output stays finite.
        Tensor w = Tensor.of(new float[] {3e38f, 1f, 1f, 3e38f}, shape(2, 2)).requiresGrad(true);
        Tensor y = new Linear(w, null, Activation.IDENTITY).apply(x);
        Tensor seed = Tensor.of(new float[] {10f, 10f, 10f, 10f}, shape(2, 2));
        try (var _ = Anomaly.detect()) {
            assertThrows(AnomalyException.class, () -> y.backward(seed, true));
        }
        new SGD(List.of(x), 0.5f).step();
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> y.backward(seed, true));
        assertTrue(refused.getMessage().contains("modified in place"), refused.getMessage());
    }

    /** {@code count} values of a sine of period about {@code 2π / step}, not a whole number of vectors. */
    private static float[] waves(int count, double step) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) Math.sin(i * step + count) * 0.8f;
        }
        return values;
    }

    /**
     * A residual connection passes its cotangent to the leaf unchanged, and the other branch
     * reads the same tensor afterwards: the leaf's gradient is that cotangent plus the
     * branch's, bit for bit as the two added in either order, and the cotangent itself is
     * left as it was for the branch (which would otherwise contribute twice its share).
     */
    @Test
    void aResidualLeafGetsThePassedThroughCotangentPlusTheBranchs() {
        float[] data = {0.5f, -1.25f, 2f, 0f, -0f, 3.5f, -2.75f};
        float[] weights = {1.5f, -0.5f, 2.25f, -3f, 0.75f, 1f, -1.75f};
        int n = data.length;
        Tensor x = Tensor.of(data, shape(n)).requiresGrad(true);
        Tensor c = Tensor.of(weights, shape(n));
        // The cotangent reaching the addition is c (from the product), fresh in this pass.
        x.add(x.exp()).mul(c).sum().backward();
        float[] grad = x.grad().toFloatArray();
        float[] exp = Tensor.of(data, shape(n)).exp().toFloatArray();
        for (int i = 0; i < n; i++) {
            float expected = weights[i] + exp[i] * weights[i];
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(grad[i]),
                    "element " + i + ": " + grad[i] + ", expected " + expected);
        }
    }

    /**
     * Two leaves that both receive an addition's cotangent unchanged, with nothing else, each
     * get a gradient of their own, which later passes neither recycle nor share: a second
     * pass accumulates into each once. Large enough for the CPU backend to pool the buffers.
     */
    @Test
    void leavesThatOnlyReceiveAPassedThroughCotangentGetBuffersOfTheirOwn() {
        int n = 5000;
        float[] weights = new float[n];
        float[] once = new float[n];
        float[] twice = new float[n];
        for (int i = 0; i < n; i++) {
            weights[i] = (i % 7) - 3.5f;
            once[i] = weights[i];
            twice[i] = 2 * weights[i];
        }
        Tensor c = Tensor.of(weights, shape(n));
        Tensor x = Tensor.full(1f, shape(n)).requiresGrad(true);
        Tensor w = Tensor.full(2f, shape(n)).requiresGrad(true);
        x.add(w).mul(c).sum().backward();
        // Other passes over tensors of the same size reuse what the first one recycled; the
        // gradients must not be among it.
        for (int i = 0; i < 3; i++) {
            Tensor other = Tensor.full(0.25f, shape(n)).requiresGrad(true);
            other.add(other.mul(2)).exp().mul(c).sum().backward();
        }
        assertArrayEquals(once, x.grad().toFloatArray(), "x after one pass");
        assertArrayEquals(once, w.grad().toFloatArray(), "w after one pass");
        x.add(w).mul(c).sum().backward();
        assertArrayEquals(twice, x.grad().toFloatArray(), "x after two passes");
        assertArrayEquals(twice, w.grad().toFloatArray(), "w after two passes");
        // The same leaf on both sides: the cotangent twice, neither copy aliasing the other.
        Tensor y = Tensor.full(3f, shape(n)).requiresGrad(true);
        y.add(y).mul(c).sum().backward();
        assertArrayEquals(twice, y.grad().toFloatArray(), "y = x + x");
    }

    @Test
    void gradientsAccumulateAcrossBackwardCallsUntilZeroGrad() {
        Tensor x = vec(1, 2).requiresGrad(true);
        x.mul(2).sum().backward();
        x.mul(3).sum().backward();
        assertTensor(x.grad(), shape(2), 5, 5);
        x.zeroGrad();
        assertNull(x.grad());
        x.mul(4).sum().backward();
        assertTensor(x.grad(), shape(2), 4, 4);
    }

    @Test
    void aChainOfOneHundredThousandOpsDoesNotOverflowTheStack() {
        Tensor x = Tensor.scalar(1).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 100_000; i++) {
            y = y.add(1f);
        }
        assertEquals(100_001f, y.item());
        y.backward();
        assertEquals(1f, x.grad().item());
    }

    @Test
    void aSecondBackwardThroughAFreedGraphThrowsAndChangesNothing() {
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor y = x.tanh().sum();
        y.backward();
        float[] first = x.grad().toFloatArray();
        var error = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(error.getMessage().contains("freed"), error.getMessage());
        assertTrue(error.getMessage().contains("retainGraph"), error.getMessage());
        assertTensor(x.grad(), shape(2), first);
    }

    @Test
    void retainGraphAllowsASecondBackward() {
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor y = x.exp().sum();
        y.backward(Tensor.scalar(1), true);
        y.backward(Tensor.scalar(1));
        assertClose(x.grad(), shape(2), 1e-5, 2 * (float) Math.exp(1), 2 * (float) Math.exp(2));
    }

    @Test
    void seededBackwardGivesTheVectorJacobianProduct() {
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor x = vec(1, -1);
        Tensor y = w.matmul(x);               // y_i = Σ_j w_ij x_j
        y.backward(vec(10, 100));             // dL/dw_ij = seed_i x_j
        assertTensor(w.grad(), shape(2, 2), 10, -10, 100, -100);
    }

    @Test
    void backwardFromALeaf() {
        Tensor x = Tensor.scalar(3).requiresGrad(true);
        x.backward();
        assertEquals(1f, x.grad().item());
    }

    @Test
    void noGradScopeRecordsNothingAndRestoresTheMode() {
        Tensor x = vec(1, 2).requiresGrad(true);
        try (var _ = GradMode.noGrad()) {
            assertFalse(GradMode.isEnabled());
            Tensor y = x.mul(2);
            assertFalse(y.requiresGrad());
            try (var _ = GradMode.enableGrad()) {
                assertTrue(x.mul(2).requiresGrad());
            }
            assertFalse(GradMode.isEnabled());
        }
        assertTrue(GradMode.isEnabled());
        assertTrue(x.mul(2).requiresGrad());
    }

    @Test
    void detachCutsHistory() {
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor y = x.mul(x);
        Tensor cut = y.detach();
        assertFalse(cut.requiresGrad());
        assertTrue(cut.isLeaf());
        assertTensor(cut, shape(2), 1, 4);
        Tensor z = cut.mul(x).sum();  // only the direct use of x counts: d/dx = cut = x²
        z.backward();
        assertTensor(x.grad(), shape(2), 1, 4);
    }

    @Test
    void onlyLeavesReceiveGradientsAndInputsWithoutTheFlagGetNone() {
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor constant = vec(3, 4);
        Tensor hidden = x.mul(constant);
        hidden.sum().backward();
        assertTensor(x.grad(), shape(2), 3, 4);
        assertNull(constant.grad());
        assertNull(hidden.grad());
        assertFalse(hidden.isLeaf());
    }

    @Test
    void requiresGradOnlyOnLeaves() {
        Tensor x = vec(1).requiresGrad(true);
        Tensor y = x.exp();
        var error = assertThrows(IllegalStateException.class, () -> y.requiresGrad(false));
        assertTrue(error.getMessage().contains("'exp'"), error.getMessage());
        assertSame(x, x.requiresGrad(true));
    }

    @Test
    void backwardWithoutSeedNeedsOneElement() {
        Tensor y = vec(1, 2).requiresGrad(true).mul(2);
        var error = assertThrows(IllegalStateException.class, y::backward);
        assertEquals("backward: tensor of shape [2] has 2 elements; backward() without a seed needs exactly one "
                + "(call backward(seed))", error.getMessage());
    }

    @Test
    void backwardOnATensorThatNeedsNoGradient() {
        var error = assertThrows(IllegalStateException.class, () -> Tensor.scalar(1).exp().backward());
        assertTrue(error.getMessage().startsWith("backward: tensor of shape [] does not require a gradient"),
                error.getMessage());
    }

    @Test
    void seedMustHaveTheOutputShape() {
        Tensor y = vec(1, 2).requiresGrad(true).mul(2);
        var error = assertThrows(IllegalArgumentException.class, () -> y.backward(vec(1, 2, 3)));
        assertEquals("backward: seed of shape [3] does not match the output's shape [2]", error.getMessage());
        y.backward(vec(1, 1));
    }

    @Test
    void unusedBranchesAndZeroPowersGiveZeroOrNoGradient() {
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor y = x.pow(0).sum();
        y.backward();
        assertNull(x.grad(), "no contribution reached x");
        Tensor z = x.pow(0).add(x).sum();
        z.backward();
        assertTensor(x.grad(), shape(2), 1, 1);
    }

    /**
     * Each node lets go of what it saved as soon as its rule has run: by the time the rule of
     * the first operation runs (last in the backward pass), the tanh outputs that the later
     * nodes saved are unreachable, though the graph as a whole is still being reversed.
     */
    @Test
    void savedStateIsReleasedAsSoonAsItsRuleHasRun() {
        assertEquals(List.of(), outputsHeldWhenTheFirstRuleRuns(false), "saved outputs still reachable when the first rule ran");
        // The control: a retained graph keeps them, and the probe sees it.
        assertEquals(List.of("tanh 0", "tanh 1", "tanh 2", "tanh 3"), outputsHeldWhenTheFirstRuleRuns(true));
    }

    private static List<String> outputsHeldWhenTheFirstRuleRuns(boolean retainGraph) {
        List<WeakReference<Tensor>> saved = new ArrayList<>();
        List<String> stillHeld = new ArrayList<>();
        boolean[] probed = {false};
        CustomFunction probe = new CustomFunction() {
            @Override
            protected Tensor forward(Context ctx, List<Tensor> inputs) {
                return inputs.get(0).mul(1f);
            }

            @Override
            protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
                probed[0] = true;
                for (int attempt = 0; attempt < 5 && saved.stream().anyMatch(r -> r.get() != null); attempt++) {
                    System.gc();
                }
                for (int i = 0; i < saved.size(); i++) {
                    if (saved.get(i).get() != null) {
                        stillHeld.add("tanh " + i);
                    }
                }
                return cotangent;
            }
        };
        Tensor x = Tensor.randn(3, 64, 64).requiresGrad(true);
        Tensor loss = tanhChain(probe.apply(x), saved);
        loss.backward(Tensor.scalar(1f), retainGraph);
        assertTrue(probed[0], "the probe's rule ran");
        assertEquals(4, saved.size());
        return stillHeld;
    }

    /** Four tanh layers whose outputs only the tape holds, then a sum. */
    private static Tensor tanhChain(Tensor h, List<WeakReference<Tensor>> outputs) {
        for (int i = 0; i < 4; i++) {
            h = h.tanh();
            outputs.add(new WeakReference<>(h));
        }
        return h.sum();
    }
}
