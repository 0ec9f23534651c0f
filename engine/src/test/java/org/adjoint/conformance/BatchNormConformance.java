package org.adjoint.conformance;

import static org.adjoint.conformance.AttentionConformance.assertNear;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.checkpoint.Checkpoint;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.internal.TensorImpl;
import org.adjoint.io.SafeTensors;
import org.adjoint.nn.Activation;
import org.adjoint.nn.BatchNorm2d;
import org.adjoint.nn.Functional;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;

/**
 * Batch normalisation ({@link Functional#batchNorm} and {@link BatchNorm2d}): PyTorch 1.13
 * references (see {@code reference/batchnorm_reference.py}), gradients three ways, the
 * running statistics under checkpointing, the state dict, and the errors.
 */
public abstract class BatchNormConformance extends BackendConformance {

    private static final String REFERENCE = "/org/adjoint/conformance/reference/batchnorm_reference.safetensors";
    /** The PyTorch values, read once per backend (tensors are created on the current one). */
    private static Map<String, Tensor> reference() {
        return ReferenceFiles.load(REFERENCE);
    }

    private static Tensor copyOf(Tensor t) {
        return t.rank() == 0 ? Tensor.scalar(t.item()) : Tensor.of(t.toFloatArray(), t.shape());
    }

    private static void checkCase(String name, boolean training, boolean affine, float momentum, float eps) {
        Map<String, Tensor> ref = reference();
        Tensor x = copyOf(ref.get(name + ".x")).requiresGrad(true);
        Tensor mean = copyOf(ref.get(name + ".running_mean"));
        Tensor var = copyOf(ref.get(name + ".running_var"));
        Tensor weight = affine ? copyOf(ref.get(name + ".weight")).requiresGrad(true) : null;
        Tensor bias = affine ? copyOf(ref.get(name + ".bias")).requiresGrad(true) : null;
        Tensor y = Functional.batchNorm(x, mean, var, weight, bias, training, momentum, eps);
        y.mul(copyOf(ref.get(name + ".u"))).sum().backward();
        double tolerance = 2e-5 * (1 + ref.get(name + ".x").size() / 16.0);
        assertNear(ref.get(name + ".y"), y, tolerance, name + " output");
        assertNear(ref.get(name + ".grad_x"), x.grad(), tolerance, name + " input gradient");
        if (affine) {
            assertNear(ref.get(name + ".grad_weight"), weight.grad(), tolerance, name + " weight gradient");
            assertNear(ref.get(name + ".grad_bias"), bias.grad(), tolerance, name + " bias gradient");
        }
        assertNear(ref.get(name + ".new_running_mean"), mean, 1e-6, name + " running mean");
        assertNear(ref.get(name + ".new_running_var"), var, 1e-6, name + " running variance");
    }

    @Test
    void trainingMatchesPyTorchOnImages() {
        checkCase("train4d", true, true, 0.1f, 1e-5f);
    }

    @Test
    void evaluationMatchesPyTorchOnImages() {
        checkCase("eval4d", false, true, 0.1f, 1e-5f);
    }

    @Test
    void trainingMatchesPyTorchOnRankTwoWithoutWeightOrBias() {
        checkCase("train2d", true, false, 0.3f, 1e-3f);
    }

    @Test
    void evaluationMatchesPyTorchOnRankTwoWithoutWeightOrBias() {
        checkCase("eval2d", false, false, 0.1f, 1e-5f);
    }

    @Test
    void aBatchOfOneImageNormalisesOverItsPixels() {
        checkCase("batch1", true, true, 0.5f, 1e-5f);
    }

    @Test
    void theRunningStatisticsBumpTheirVersionInTrainingOnly() {
        Tensor mean = Tensor.zeros(3);
        Tensor var = Tensor.ones(3);
        long meanVersion = TensorImpl.of(mean).version().get();
        long varVersion = TensorImpl.of(var).version().get();
        Tensor x = Tensor.randn(4, 2, 3, 2, 2);
        Functional.batchNorm(x, mean, var, null, null, false, 0.1f, 1e-5f);
        assertEquals(meanVersion, TensorImpl.of(mean).version().get(), "evaluation writes nothing");
        assertArrayEquals(new float[] {0, 0, 0}, mean.toFloatArray());
        Functional.batchNorm(x, mean, var, null, null, true, 0.1f, 1e-5f);
        assertTrue(TensorImpl.of(mean).version().get() > meanVersion, "the running mean's version");
        assertTrue(TensorImpl.of(var).version().get() > varVersion, "the running variance's version");
        assertFalse(mean.requiresGrad(), "the update is not recorded");
    }

    @Test
    void gradientsPassFiniteDifferencesInTraining() {
        Tensor x = Tensor.randn(1, 3, 2, 2, 2);
        Tensor weight = Tensor.randn(2, 2);
        Tensor bias = Tensor.randn(3, 2);
        Function<List<Tensor>, Tensor> f = in -> Functional.batchNorm(in.get(0), null, null, in.get(1), in.get(2),
                true, 0.1f, 1e-5f);
        GradCheck.finiteDifferences(f, List.of(x, weight, bias)).assertPassed();
        GradCheck.adjointIdentity(f, List.of(x, weight, bias), 7).assertPassed();
    }

    @Test
    void gradientsPassFiniteDifferencesInEvaluationIncludingTheStatistics() {
        Tensor x = Tensor.randn(4, 3, 2, 2);
        Tensor mean = Tensor.randn(5, 2);
        Tensor var = Tensor.rand(6, 2).add(0.5f);
        Tensor weight = Tensor.randn(7, 2);
        Function<List<Tensor>, Tensor> f = in -> Functional.batchNorm(in.get(0), in.get(1), in.get(2), in.get(3), null,
                false, 0.1f, 1e-5f);
        GradCheck.finiteDifferences(f, List.of(x, mean, var, weight)).assertPassed();
    }

    @Test
    void forwardModeAgreesWithReverseMode() {
        Tensor x = Tensor.randn(11, 3, 2, 2, 3);
        Tensor weight = Tensor.randn(12, 2);
        Tensor bias = Tensor.randn(13, 2);
        Function<List<Tensor>, Tensor> f = in -> Functional.batchNorm(in.get(0), null, null, in.get(1), in.get(2),
                true, 0.1f, 1e-5f);
        GradCheck.forwardMode(f, List.of(x, weight, bias), 14).assertPassed();
    }

    @Test
    void secondDerivativePassesFiniteDifferences() {
        Tensor x = Tensor.randn(21, 4, 2, 2);
        Tensor u = Tensor.randn(22, 4, 2, 2);
        // The gradient of <u, bn(x)> is itself a function of x, differentiated again.
        Function<List<Tensor>, Tensor> gradient = in -> Autodiff.grad(
                h -> Functional.batchNorm(h, null, null, null, null, true, 0.1f, 1e-5f).mul(u).sum(), in.get(0));
        GradCheck.finiteDifferences(gradient, List.of(x)).assertPassed();
    }

    @Test
    void hessianVectorProductsAgreeWithReverseOverReverse() {
        Tensor x = Tensor.randn(23, 3, 2, 4);
        Tensor v = Tensor.randn(24, 3, 2, 4);
        Tensor u = Tensor.randn(25, 3, 2, 4);
        Function<Tensor, Tensor> loss = h -> Functional.batchNorm(h, null, null, null, null, true, 0.1f, 1e-5f)
                .mul(u).pow(2f).sum();
        Tensor forwardOverReverse = Autodiff.hvp(loss, x, v);
        Tensor reverseOverReverse = Autodiff.grad(h -> Autodiff.grad(loss, h).mul(v).sum(), x);
        assertNear(reverseOverReverse, forwardOverReverse, 1e-4, "H v");
    }

    @Test
    void trainingUpdatesTheRunningStatisticsWithTheUnbiasedVariance() {
        Tensor x = Tensor.of(new float[] {1, 10, 3, 20}, 2, 2);
        Tensor mean = Tensor.of(new float[] {1, 2}, 2);
        Tensor var = Tensor.of(new float[] {3, 4}, 2);
        Tensor y = Functional.batchNorm(x, mean, var, null, null, true, 0.25f, 0f);
        // channel 0: values 1, 3 (mean 2, biased var 1, unbiased 2); channel 1: 10, 20 (15, 25, 50)
        assertClose(y, shape(2, 2), 1e-6, -1, -1, 1, 1);
        assertClose(mean, shape(2), 1e-6, 0.75f * 1 + 0.25f * 2, 0.75f * 2 + 0.25f * 15);
        assertClose(var, shape(2), 1e-5, 0.75f * 3 + 0.25f * 2, 0.75f * 4 + 0.25f * 50);
    }

    // ---- checkpointing

    /** Three normalisations between fully connected layers on the last axis; same seeds, same start. */
    private static Sequential chain() {
        List<Layer> layers = new ArrayList<>();
        layers.add(new BatchNorm2d(3));
        layers.add(new Linear(5, 5, Activation.TANH, 1));
        layers.add(new BatchNorm2d(3, 1e-3f, 0.3f));
        layers.add(new Linear(5, 5, Activation.TANH, 2));
        layers.add(new BatchNorm2d(3));
        return new Sequential(layers);
    }

    /** Gradients of the input and parameters, then every buffer, after one step through {@code run}. */
    private static List<float[]> step(Sequential chain, Function<Tensor, Tensor> run) {
        Tensor x = Tensor.randn(31, 2, 3, 4, 5).requiresGrad(true);
        run.apply(x).mul(Tensor.randn(32, 2, 3, 4, 5)).sum().backward();
        List<float[]> state = new ArrayList<>();
        state.add(x.grad().toFloatArray());
        for (Tensor p : chain.parameters()) {
            state.add(p.grad().toFloatArray());
        }
        for (Tensor b : chain.namedBuffers().values()) {
            state.add(b.toFloatArray());
        }
        return state;
    }

    @Test
    void checkpointedChainsUpdateTheRunningStatisticsOnce() {
        Sequential plainChain = chain();
        List<float[]> plain = step(plainChain, plainChain::apply);
        assertEquals(1f, plainChain.namedBuffers().get("0.num_batches_tracked").item(), "one training call");
        for (String policy : List.of("every:1", "sqrt", "binomial:2", "binomial:0")) {
            Sequential checkpointed = chain();
            List<float[]> result = step(checkpointed, h -> checkpointed.apply(h, CheckpointPolicy.parse(policy)));
            assertEquals(plain.size(), result.size());
            for (int i = 0; i < plain.size(); i++) {
                assertArrayEquals(plain.get(i), result.get(i), policy + ": gradient or buffer " + i + " differs");
            }
        }
    }

    @Test
    void aCheckpointedSegmentUpdatesTheRunningStatisticsOnce() {
        BatchNorm2d plainLayer = new BatchNorm2d(3);
        List<float[]> plain = step(new Sequential(plainLayer), plainLayer::apply);
        BatchNorm2d layer = new BatchNorm2d(3);
        List<float[]> segmented = step(new Sequential(layer), h -> Checkpoint.segment(layer::apply, h,
                layer.parameters()));
        for (int i = 0; i < plain.size(); i++) {
            assertArrayEquals(plain.get(i), segmented.get(i), "gradient or buffer " + i);
        }
        assertEquals(1f, layer.numBatchesTracked().item());
    }

    @Test
    void aSegmentInsideACheckpointedChainUpdatesOnce() {
        BatchNorm2d plainInner = new BatchNorm2d(3);
        Sequential plain = new Sequential(new BatchNorm2d(3), plainInner);
        List<float[]> expected = step(plain, plain::apply);
        BatchNorm2d inner = new BatchNorm2d(3);
        Layer segmented = new Layer() {
            @Override
            public Tensor apply(Tensor h) {
                return Checkpoint.segment(inner::apply, h, inner.parameters());
            }

            @Override
            public List<Tensor> parameters() {
                return inner.parameters();
            }
        };
        BatchNorm2d outer = new BatchNorm2d(3);
        Sequential chain = new Sequential(outer, segmented);
        List<float[]> actual = step(chain, h -> chain.apply(h, CheckpointPolicy.parse("every:1")));
        // The plain chain's buffers are both layers'; the nested chain lists only the outer layer's.
        for (int i = 0; i < actual.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "gradient or buffer " + i);
        }
        assertArrayEquals(plainInner.runningMean().toFloatArray(), inner.runningMean().toFloatArray());
        assertArrayEquals(plainInner.runningVar().toFloatArray(), inner.runningVar().toFloatArray());
        assertEquals(1f, inner.numBatchesTracked().item(), "the inner layer counted one batch");
        assertEquals(1f, outer.numBatchesTracked().item(), "the outer layer counted one batch");
    }

    // ---- the module

    @Test
    void aStateDictSurvivesSafeTensors() throws IOException {
        BatchNorm2d layer = new BatchNorm2d(3, 1e-3f, 0.2f);
        layer.apply(Tensor.randn(71, 2, 3, 2, 2));
        Path file = Files.createTempFile("batchnorm", ".safetensors");
        try {
            SafeTensors.save(file, layer.stateDict());
            BatchNorm2d loaded = new BatchNorm2d(3, 1e-3f, 0.2f);
            loaded.loadStateDict(SafeTensors.load(file));
            for (Map.Entry<String, Tensor> entry : layer.stateDict().entrySet()) {
                assertArrayEquals(entry.getValue().toFloatArray(), loaded.stateDict().get(entry.getKey()).toFloatArray(),
                        entry.getKey());
            }
            layer.eval();
            loaded.eval();
            Tensor x = Tensor.randn(72, 2, 3, 2, 2);
            assertArrayEquals(layer.apply(x).toFloatArray(), loaded.apply(x).toFloatArray());
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void theStateDictHasPyTorchsNamesAndTheBuffersAreNotParameters() {
        Sequential model = new Sequential(new Linear(4, 4, 1), new BatchNorm2d(3));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                "1.num_batches_tracked"), List.copyOf(model.stateDict().keySet()));
        assertEquals(4, model.parameters().size(), "weights and biases only");
        assertEquals(List.of("1.running_mean", "1.running_var", "1.num_batches_tracked"),
                List.copyOf(model.namedBuffers().keySet()));
        BatchNorm2d layer = new BatchNorm2d(2);
        assertArrayEquals(new int[0], layer.numBatchesTracked().shape());
        assertArrayEquals(new float[] {1, 1}, layer.weight().toFloatArray());
        assertArrayEquals(new float[] {0, 0}, layer.bias().toFloatArray());
        assertArrayEquals(new float[] {0, 0}, layer.runningMean().toFloatArray());
        assertArrayEquals(new float[] {1, 1}, layer.runningVar().toFloatArray());
    }

    @Test
    void anOptimizerStepLeavesTheBuffersAlone() {
        BatchNorm2d layer = new BatchNorm2d(2);
        Tensor x = Tensor.randn(41, 3, 2, 2, 2);
        layer.apply(x).mul(Tensor.randn(42, 3, 2, 2, 2)).sum().backward();
        float[] mean = layer.runningMean().toFloatArray();
        new SGD(layer.parameters(), 0.5f).step();
        assertArrayEquals(mean, layer.runningMean().toFloatArray());
        assertFalse(java.util.Arrays.equals(new float[] {1, 1}, layer.weight().toFloatArray()), "the weight moved");
    }

    @Test
    void theModuleTrainsAndEvaluatesAsPyTorchsAndLoadsItsStateDict() {
        Map<String, Tensor> ref = reference();
        BatchNorm2d layer = new BatchNorm2d(3);
        Map<String, Tensor> initial = layer.stateDict();
        initial.replaceAll((name, value) -> copyOf(value));
        initial.put("weight", ref.get("module.weight"));
        initial.put("bias", ref.get("module.bias"));
        layer.loadStateDict(initial);
        layer.apply(ref.get("module.x0"));
        layer.apply(ref.get("module.x1"));
        layer.eval();
        assertFalse(layer.isTraining());
        Tensor y = layer.apply(ref.get("module.eval_x"));
        assertNear(ref.get("module.eval_y"), y, 1e-5, "evaluation output");
        for (Map.Entry<String, Tensor> entry : layer.stateDict().entrySet()) {
            assertNear(ref.get("module.state." + entry.getKey()), entry.getValue(), 1e-5, entry.getKey());
        }
        assertEquals(2f, layer.numBatchesTracked().item(), "two training calls");

        BatchNorm2d loaded = new BatchNorm2d(3);
        Map<String, Tensor> fromTorch = new java.util.LinkedHashMap<>();
        for (String name : layer.stateDict().keySet()) {
            fromTorch.put(name, ref.get("module.state." + name));
        }
        loaded.loadStateDict(fromTorch);
        loaded.eval();
        assertNear(ref.get("module.eval_y"), loaded.apply(ref.get("module.eval_x")), 1e-5, "a loaded PyTorch state");
        assertEquals(2f, loaded.numBatchesTracked().item());
        Map<String, Tensor> missing = new java.util.LinkedHashMap<>(fromTorch);
        missing.remove("running_var");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> loaded.loadStateDict(missing));
        assertTrue(e.getMessage().contains("missing 'running_var'"), e.getMessage());
    }

    @Test
    void evaluationModeNeitherCountsNorUpdates() {
        BatchNorm2d layer = new BatchNorm2d(2);
        layer.eval();
        layer.apply(Tensor.randn(51, 3, 2, 2, 2));
        assertEquals(0f, layer.numBatchesTracked().item());
        assertArrayEquals(new float[] {0, 0}, layer.runningMean().toFloatArray());
        layer.train(true);
        layer.apply(Tensor.randn(51, 3, 2, 2, 2));
        assertEquals(1f, layer.numBatchesTracked().item());
    }

    // ---- errors

    private static void assertRejected(String expected, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith("batchNorm: ") && e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void badArgumentsAreRefusedBeforeAnythingChanges() {
        Tensor x = Tensor.randn(61, 2, 3, 2);
        Tensor mean = Tensor.zeros(3);
        Tensor var = Tensor.ones(3);
        Tensor c3 = Tensor.ones(3);
        Tensor c4 = Tensor.ones(4);
        assertRejected("rank at least 2", () -> Functional.batchNorm(Tensor.ones(3), mean, var, null, null, true,
                0.1f, 1e-5f));
        assertRejected("running mean has shape [4]", () -> Functional.batchNorm(x, c4, var, null, null, true, 0.1f,
                1e-5f));
        assertRejected("running variance has shape [4]", () -> Functional.batchNorm(x, mean, c4, null, null, true,
                0.1f, 1e-5f));
        assertRejected("weight has shape [4]", () -> Functional.batchNorm(x, mean, var, c4, c3, true, 0.1f, 1e-5f));
        assertRejected("bias has shape [3, 1]", () -> Functional.batchNorm(x, mean, var, c3, Tensor.ones(3, 1), true,
                0.1f, 1e-5f));
        assertRejected("eps must be finite and >= 0, got -1.0E-5", () -> Functional.batchNorm(x, mean, var, null,
                null, true, 0.1f, -1e-5f));
        assertRejected("momentum must be in [0, 1], got 1.5", () -> Functional.batchNorm(x, mean, var, null, null,
                true, 1.5f, 1e-5f));
        assertRejected("momentum must be in [0, 1], got NaN", () -> Functional.batchNorm(x, mean, var, null, null,
                true, Float.NaN, 1e-5f));
        assertRejected("Expected more than 1 value per channel when training, got input size [1, 3]",
                () -> Functional.batchNorm(Tensor.ones(1, 3), mean, var, null, null, true, 0.1f, 1e-5f));
        assertRejected("Expected more than 1 value per channel when training, got input size [1, 3, 1, 1]",
                () -> Functional.batchNorm(Tensor.ones(1, 3, 1, 1), mean, var, null, null, true, 0.1f, 1e-5f));
        assertRejected("must be given in evaluation mode", () -> Functional.batchNorm(x, null, null, null, null, false,
                0.1f, 1e-5f));
        assertRejected("both be given or both be null", () -> Functional.batchNorm(x, mean, null, null, null, true,
                0.1f, 1e-5f));
        assertArrayEquals(new float[] {0, 0, 0}, mean.toFloatArray(), "the running mean is untouched");
        assertArrayEquals(new float[] {1, 1, 1}, var.toFloatArray(), "the running variance is untouched");
        // One value per channel is fine in evaluation, as in PyTorch.
        assertArrayEquals(new int[] {1, 3},
                Functional.batchNorm(Tensor.ones(1, 3), mean, var, null, null, false, 0.1f, 1e-5f).shape());

        BatchNorm2d layer = new BatchNorm2d(3);
        IllegalArgumentException wrongRank = assertThrows(IllegalArgumentException.class,
                () -> layer.apply(Tensor.ones(2, 3)));
        assertTrue(wrongRank.getMessage().contains("expected input [N, 3, H, W], got [2, 3]"), wrongRank.getMessage());
        assertThrows(IllegalArgumentException.class, () -> layer.apply(Tensor.ones(2, 4, 2, 2)));
        IllegalArgumentException single = assertThrows(IllegalArgumentException.class,
                () -> layer.apply(Tensor.ones(1, 3, 1, 1)));
        assertTrue(single.getMessage().contains("Expected more than 1 value per channel"), single.getMessage());
        assertEquals(0f, layer.numBatchesTracked().item(), "a failed call counts nothing");
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(3, -1f, 0.1f));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(3, 1e-5f, -0.1f));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(0));
    }
}
