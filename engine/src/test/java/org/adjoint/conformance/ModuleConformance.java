package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Dropout;
import org.adjoint.nn.GELU;
import org.adjoint.nn.Init;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Module;
import org.adjoint.nn.RandomState;
import org.adjoint.nn.ReLU;
import org.adjoint.nn.Sequential;
import org.adjoint.nn.Sigmoid;
import org.adjoint.nn.Tanh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Modules: names, state dictionaries, modes, the activation modules and initializations. */
public abstract class ModuleConformance extends BackendConformance {

    private static Sequential mlp() {
        return new Sequential(new Linear(4, 8, 1), new ReLU(), new Dropout(0.5f), new Linear(8, 3, Activation.TANH, 2));
    }

    @Test
    void sequentialNamesParametersByPosition() {
        Sequential model = mlp();
        assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias"), List.copyOf(model.namedParameters().keySet()));
        assertEquals(4 * 8 + 8 + 8 * 3 + 3, model.parameterCount());
        assertEquals(List.copyOf(model.namedParameters().values()), model.parameters());
        assertEquals("Sequential(Linear(4, 8), ReLU(), Dropout(0.5), Linear(8, 3, TANH))", model.toString());
    }

    @Test
    void sharedParametersAndPlainLayersAreNamedOnce() {
        Linear shared = new Linear(3, 3, Activation.TANH, 5);
        Layer plain = new Layer() {
            private final Tensor scale = Tensor.ones(3).requiresGrad(true);

            @Override
            public Tensor apply(Tensor x) {
                return x.mul(scale);
            }

            @Override
            public List<Tensor> parameters() {
                return List.of(scale);
            }
        };
        Sequential model = new Sequential(shared, plain, shared);
        assertEquals(List.of("0.weight", "0.bias", "1.0"), List.copyOf(model.namedParameters().keySet()));
    }

    @Test
    void stateDictRoundTripCopiesInPlace() {
        Sequential source = mlp();
        Sequential target = new Sequential(new Linear(4, 8, 11), new ReLU(), new Dropout(0.5f),
                new Linear(8, 3, Activation.TANH, 12));
        Tensor weightBefore = target.namedParameters().get("0.weight");
        assertNotEquals(java.util.Arrays.toString(source.parameters().get(0).toFloatArray()),
                java.util.Arrays.toString(weightBefore.toFloatArray()));
        target.loadStateDict(source.stateDict());
        for (String name : source.namedParameters().keySet()) {
            assertArrayEquals(source.namedParameters().get(name).toFloatArray(),
                    target.namedParameters().get(name).toFloatArray(), name);
        }
        // Same tensor objects: an optimizer built before the load keeps working.
        assertTrue(weightBefore == target.namedParameters().get("0.weight"));
        assertTrue(weightBefore.requiresGrad() && weightBefore.isLeaf());
    }

    @Test
    void aBadStateDictChangesNothingAndNamesEveryProblem() {
        Sequential model = mlp();
        float[] before = model.parameters().get(0).toFloatArray();
        Map<String, Tensor> state = new LinkedHashMap<>(mlp().stateDict());
        state.put("0.weight", Tensor.zeros(4, 8));
        state.remove("3.bias");
        state.put("3.weight", Tensor.zeros(3, 8));
        state.put("9.extra", Tensor.zeros(1));
        var error = assertThrows(IllegalArgumentException.class, () -> model.loadStateDict(state));
        assertEquals("loadStateDict: '3.weight' has shape [3, 8], the module needs [8, 3]; missing '3.bias' [3]; "
                + "unexpected '9.extra'", error.getMessage());
        assertArrayEquals(before, model.parameters().get(0).toFloatArray());
    }

    @Test
    void aStateThatSwapsTwoOfTheModulesOwnTensorsSwapsTheirValues() {
        Linear a = new Linear(3, 3, 1);
        Linear b = new Linear(3, 3, 2);
        Sequential model = new Sequential(a, new ReLU(), b);
        float[] first = a.weight().toFloatArray();
        float[] second = b.weight().toFloatArray();
        Map<String, Tensor> state = new LinkedHashMap<>(model.stateDict());
        // The values are the module's own tensors: each copy must read what was there before any copy.
        state.put("0.weight", b.weight());
        state.put("2.weight", a.weight());
        model.loadStateDict(state);
        assertArrayEquals(second, a.weight().toFloatArray());
        assertArrayEquals(first, b.weight().toFloatArray());
    }

    @Test
    void loadingAfterAStepRefusesAGraphRecordedBefore() {
        Linear layer = new Linear(2, 2, 3);
        // The input needs a gradient, so the product saved the weight for its rule.
        Tensor loss = layer.apply(Tensor.ones(1, 2).requiresGrad(true)).sum();
        layer.loadStateDict(new Linear(2, 2, 4).stateDict());
        assertThrows(IllegalStateException.class, loss::backward);
    }

    @Test
    void trainAndEvalReachDropoutInsideSequential() {
        Sequential model = new Sequential(new Dropout(0.5f));
        Tensor x = Tensor.ones(1000);
        model.eval();
        assertArrayEquals(x.toFloatArray(), model.apply(x).toFloatArray());
        model.train(true);
        RandomState.set(3);
        float[] dropped = model.apply(x).toFloatArray();
        int zeros = 0;
        for (float v : dropped) {
            zeros += v == 0f ? 1 : 0;
            assertTrue(v == 0f || v == 2f, "kept values are scaled by 1 / (1 - p)");
        }
        assertTrue(zeros > 400 && zeros < 600, "about half dropped, got " + zeros);
    }

    @Test
    void linearNamesTheInputShapeTheCallerPassed() {
        var error = assertThrows(IllegalArgumentException.class, () -> new Linear(4, 8, 1).apply(Tensor.zeros(2, 3, 5)));
        assertEquals("linear: cannot apply weight [4, 8] to input [2, 3, 5] (its last axis must be 4)", error.getMessage());
    }

    @Test
    void dropoutKeepsARankZeroInputRankZero() {
        RandomState.set(1);
        assertArrayEquals(new int[0], new Dropout(0.5f).apply(Tensor.scalar(3f)).shape());
    }

    @Test
    void zeroGradClearsEveryParameter() {
        Sequential model = mlp().train(false);
        model.apply(Tensor.randn(1, 5, 4)).sum().backward();
        assertTrue(model.parameters().stream().allMatch(p -> p.grad() != null));
        model.zeroGrad();
        for (Tensor p : model.parameters()) {
            Tensor grad = p.grad();
            if (grad != null) {
                for (float v : grad.toFloatArray()) {
                    assertEquals(0f, v);
                }
            }
        }
    }

    @Test
    void activationModulesEqualTheirOperations() {
        Tensor x = Tensor.randn(7, 3, 5);
        assertArrayEquals(x.relu().toFloatArray(), new ReLU().apply(x).toFloatArray());
        assertArrayEquals(x.tanh().toFloatArray(), new Tanh().apply(x).toFloatArray());
        assertArrayEquals(x.sigmoid().toFloatArray(), new Sigmoid().apply(x).toFloatArray());
        Sequential split = new Sequential(new Linear(5, 4, 9), new ReLU());
        Linear fused = new Linear(5, 4, Activation.RELU, Init.XAVIER_NORMAL, 9);
        assertClose(split.apply(x), shape(3, 4), 1e-5, fused.apply(x).toFloatArray());
    }

    /**
     * Without an activation the product and its bias are one backend call ({@code gemmBias}),
     * which may start the result from the bias rows: the bits of the product and then the bias
     * added, for the GPT's shapes, a k longer than one block of the CPU's products, a small, a
     * single-row and a narrow layer, and a transposed input.
     */
    @Test
    void aLinearLayerWithoutActivationHasTheBitsOfItsProductThenItsBias() {
        int[][] shapes = {{768, 128, 384}, {768, 512, 128}, {64, 1100, 40}, {9, 5, 3}, {1, 7, 5}, {300, 16, 8}};
        long seed = 600;
        for (int[] shape : shapes) {
            Tensor weight = Tensor.randn(seed++, shape[1], shape[2]);
            Tensor bias = Tensor.randn(seed++, shape[2]);
            Linear layer = new Linear(weight, bias, Activation.IDENTITY);
            Tensor x = Tensor.randn(seed++, shape[0], shape[1]);
            Tensor xT = Tensor.randn(seed++, shape[1], shape[0]).transpose();
            for (Tensor input : new Tensor[] {x, xT}) {
                assertArrayEquals(input.matmul(weight).add(bias).toFloatArray(), layer.apply(input).toFloatArray(),
                        java.util.Arrays.toString(shape));
            }
        }
    }

    @Test
    void geluIsExactByDefaultAndItsTanhFormIsClose() {
        float[] points = {-4f, -2f, -1f, -0.5f, 0f, 0.5f, 1f, 2f, 4f};
        float[] exact = new GELU().apply(Tensor.of(points)).toFloatArray();
        float[] tanh = GELU.tanh().apply(Tensor.of(points)).toFloatArray();
        assertArrayEquals(Tensor.of(points).gelu().toFloatArray(), exact);
        for (int i = 0; i < points.length; i++) {
            double reference = 0.5 * points[i] * (1 + erf(points[i] / Math.sqrt(2)));
            assertEquals(reference, exact[i], 1e-6, "GELU(" + points[i] + ")");
            assertEquals(reference, tanh[i], 1e-3, "GELU.tanh()(" + points[i] + ")");
        }
        assertTrue(Math.abs(exact[2] - tanh[2]) > 1e-5, "the two forms differ");
        assertEquals("GELU()", new GELU().toString());
        assertEquals("GELU(approximate=tanh)", GELU.tanh().toString());
        GradCheck.finiteDifferences(in -> new GELU().apply(in.get(0)), List.of(Tensor.randn(4, 3, 4))).assertPassed();
        GradCheck.finiteDifferences(in -> GELU.tanh().apply(in.get(0)), List.of(Tensor.randn(4, 3, 4))).assertPassed();
    }

    /** Abramowitz and Stegun 7.1.26, error below 1.5e-7: enough to check both forms at these points. */
    private static double erf(double x) {
        double t = 1 / (1 + 0.3275911 * Math.abs(x));
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double value = 1 - poly * Math.exp(-x * x);
        return x >= 0 ? value : -value;
    }

    @ParameterizedTest
    @EnumSource(Init.class)
    void initializationsHaveTheirVarianceAndAreSeeded(Init init) {
        int in = 300;
        int out = 200;
        float[] w = init.weight(7, in, out).toFloatArray();
        double mean = 0;
        double square = 0;
        double max = 0;
        for (float v : w) {
            mean += v;
            square += (double) v * v;
            max = Math.max(max, Math.abs(v));
        }
        mean /= w.length;
        double variance = square / w.length - mean * mean;
        double expected = init.name().startsWith("KAIMING") ? 2.0 / in : 2.0 / (in + out);
        assertEquals(0, mean, 0.01 * Math.sqrt(expected) * 10);
        assertEquals(expected, variance, 0.03 * expected, init + " variance");
        if (init.name().endsWith("UNIFORM")) {
            assertTrue(max <= Math.sqrt(3 * expected) + 1e-6, init + " bound");
        }
        assertArrayEquals(w, init.weight(7, in, out).toFloatArray());
        var error = assertThrows(IllegalArgumentException.class, () -> init.weight(7, 0, 3));
        assertEquals("Init." + init + ": fan-in and fan-out must be positive, got 0 and 3", error.getMessage());
    }

    @Test
    void aCheckpointedModuleTrainsBitwiseLikeTheStoredOne() {
        Module plain = new Sequential(new Linear(6, 6, Activation.TANH, 1), new Linear(6, 6, Activation.TANH, 2),
                new Linear(6, 6, Activation.TANH, 3), new Linear(6, 2, 4));
        Sequential checkpointed = new Sequential(new Linear(6, 6, Activation.TANH, 1), new Linear(6, 6, Activation.TANH, 2),
                new Linear(6, 6, Activation.TANH, 3), new Linear(6, 2, 4));
        Tensor x = Tensor.randn(8, 5, 6);
        plain.apply(x).pow(2).sum().backward();
        checkpointed.apply(x, CheckpointPolicy.sqrt()).pow(2).sum().backward();
        for (String name : plain.namedParameters().keySet()) {
            assertArrayEquals(plain.namedParameters().get(name).grad().toFloatArray(),
                    checkpointed.namedParameters().get(name).grad().toFloatArray(), name);
        }
        assertNull(Tensor.zeros(1).grad());
    }

    @Test
    void linearDrawsItsDefaultWeightForItsActivation() {
        assertArrayEquals(Init.KAIMING_NORMAL.weight(9, 5, 4).toFloatArray(),
                new Linear(5, 4, Activation.RELU, 9).weight().toFloatArray());
        for (Activation activation : List.of(Activation.IDENTITY, Activation.TANH, Activation.SIGMOID)) {
            assertArrayEquals(Init.XAVIER_NORMAL.weight(9, 5, 4).toFloatArray(),
                    new Linear(5, 4, activation, 9).weight().toFloatArray(), activation.name());
        }
        assertArrayEquals(Init.XAVIER_NORMAL.weight(9, 5, 4).toFloatArray(), new Linear(5, 4, 9).weight().toFloatArray());
        assertNotEquals(Init.KAIMING_NORMAL.weight(9, 5, 4).toFloatArray()[0], Init.XAVIER_NORMAL.weight(9, 5, 4).toFloatArray()[0]);
    }

    /** A state dict is a view of the parameters, as in PyTorch: an update shows through it. */
    @Test
    void aStateDictSharesStorageWithTheParameters() {
        Sequential model = mlp();
        Map<String, Tensor> state = model.stateDict();
        float before = state.get("0.weight").toFloatArray()[0];
        model.parameters().forEach(p -> p.mul(p).sum().backward());
        new org.adjoint.optim.SGD(model.parameters(), 0.5f).step();
        float after = model.parameters().get(0).toFloatArray()[0];
        assertNotEquals(before, after);
        assertEquals(after, state.get("0.weight").toFloatArray()[0]);
        Map<String, Tensor> snapshot = new LinkedHashMap<>();
        state.forEach((name, value) -> snapshot.put(name, Tensor.of(value.toFloatArray(), value.shape())));
        new org.adjoint.optim.SGD(model.parameters(), 0.5f).step();
        model.loadStateDict(snapshot);
        assertEquals(after, model.parameters().get(0).toFloatArray()[0]);
    }
}
