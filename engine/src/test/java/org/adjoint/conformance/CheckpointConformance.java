package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.checkpoint.Checkpoint;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.checkpoint.Revolve;
import org.adjoint.nn.Activation;
import org.adjoint.nn.BatchNorm2d;
import org.adjoint.nn.Dropout;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.RandomState;
import org.adjoint.nn.Sequential;
import org.adjoint.nn.Tanh;
import org.junit.jupiter.api.Test;

/** Checkpointed chains and segments: the same gradients as storing everything, to the bit. */
public abstract class CheckpointConformance extends BackendConformance {

    private static final List<String> POLICIES = List.of("none", "every:1", "every:3", "sqrt", "binomial:0",
            "binomial:1", "binomial:3", "binomial:50", "budget:4000", "budget:20000", "budget:1000000");

    private static Sequential tanhChain(int layers, int width, long seed) {
        List<Layer> list = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            list.add(new Linear(width, width, Activation.TANH, seed + i));
        }
        return new Sequential(list);
    }

    /** Gradients of every parameter and of the input after one backward through {@code run}. */
    private static List<float[]> gradients(Sequential chain, Tensor x, Function<Tensor, Tensor> run) {
        for (Tensor p : chain.parameters()) {
            p.zeroGrad();
        }
        Tensor input = x.detach().requiresGrad(true);
        run.apply(input).mul(Tensor.randn(77, 4, 8)).sum().backward();
        List<float[]> grads = new ArrayList<>();
        grads.add(input.grad().toFloatArray());
        for (Tensor p : chain.parameters()) {
            grads.add(p.grad().toFloatArray());
        }
        return grads;
    }

    /** Each parameter's gradient, copied. */
    private static List<float[]> parameterGradients(List<Tensor> parameters) {
        List<float[]> grads = new ArrayList<>();
        for (Tensor p : parameters) {
            grads.add(p.grad().toFloatArray());
        }
        return grads;
    }

    private static void zeroGradients(List<Tensor> parameters) {
        for (Tensor p : parameters) {
            p.zeroGrad();
        }
    }

    private static void assertSameGradients(List<float[]> expected, List<float[]> actual, String label) {
        assertEquals(expected.size(), actual.size(), label);
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), label + ": gradient " + i + " differs");
        }
    }

    @Test
    void everyPolicyGivesBitwiseTheSameGradients() {
        for (int layers : new int[] {1, 2, 7, 13}) {
            Sequential chain = tanhChain(layers, 8, layers * 100L);
            Tensor x = Tensor.randn(layers, 4, 8);
            List<float[]> plain = gradients(chain, x, chain::apply);
            for (String policy : POLICIES) {
                List<float[]> checkpointed = gradients(chain, x, h -> chain.apply(h, CheckpointPolicy.parse(policy)));
                assertSameGradients(plain, checkpointed, layers + " layers, " + policy);
            }
        }
    }

    @Test
    void theMeterCountsForwardCallsAndSavedBytes() {
        int layers = 16;
        Sequential chain = tanhChain(layers, 8, 5);
        Tensor x = Tensor.randn(1, 4, 8).requiresGrad(true);
        long activation = 4L * 4 * 8;
        CheckpointMeter none = run(chain, x, CheckpointPolicy.none());
        assertEquals(layers, none.layerForwardCalls());
        assertEquals((layers + 1) * activation, none.peakSavedBytes(), "every layer's input and output");
        for (int slots = 0; slots <= 5; slots++) {
            CheckpointMeter meter = run(chain, x, CheckpointPolicy.binomial(slots));
            assertEquals(Revolve.forwardCalls(layers, slots), meter.layerForwardCalls(), "binomial:" + slots);
            assertTrue(meter.peakSavedBytes() <= (slots + 2) * activation,
                    "binomial:" + slots + " held " + meter.peakSavedBytes());
        }
        CheckpointMeter sqrt = run(chain, x, CheckpointPolicy.sqrt());
        assertEquals(16 + 12, sqrt.layerForwardCalls());
        assertEquals((3 + 4) * activation, sqrt.peakSavedBytes(),
                "3 slots, and a taped segment of 4 layers whose input is the last slot (4 more activations)");
        for (long budget : new long[] {2 * activation, 3 * activation + 7, 6 * activation, 40 * activation}) {
            CheckpointMeter meter = run(chain, x, CheckpointPolicy.memoryBudget(budget));
            assertTrue(meter.peakSavedBytes() <= budget, "budget " + budget + " held " + meter.peakSavedBytes());
        }
    }

    private static CheckpointMeter run(Sequential chain, Tensor x, CheckpointPolicy policy) {
        CheckpointMeter meter = new CheckpointMeter();
        chain.apply(x, policy, meter).sum().backward();
        return meter;
    }

    @Test
    void dropoutReplaysTheSameMaskWhenReRun() {
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            layers.add(new Linear(8, 8, Activation.TANH, i));
            layers.add(new Dropout(0.3f));
        }
        Sequential chain = new Sequential(layers);
        Tensor x = Tensor.randn(2, 4, 8);
        RandomState.set(1234);
        List<float[]> plain = gradients(chain, x, chain::apply);
        for (String policy : List.of("binomial:0", "binomial:2", "sqrt")) {
            RandomState.set(1234);
            List<float[]> checkpointed = gradients(chain, x, h -> chain.apply(h, CheckpointPolicy.parse(policy)));
            assertSameGradients(plain, checkpointed, "dropout chain, " + policy);
        }
    }

    @Test
    void aBudgetIsSizedPastLeadingLayersThatSaveNothing() {
        // A reshape first (the images of a CNN): its tape holds nothing, so sizing the plan from
        // it alone took tapes for free, taped everything, and any budget below storing all failed.
        Dropout identity = new Dropout(0.5f).training(false);
        List<Layer> layers = new ArrayList<>(List.of(identity));
        layers.addAll(tanhChain(12, 8, 40).layers());
        Sequential chain = new Sequential(layers);
        Tensor x = Tensor.randn(41, 4, 8);
        long activation = 4L * x.size();
        List<float[]> plain = gradients(chain, x, chain::apply);
        for (long budget : new long[] {3 * activation, 5 * activation + 11, 8 * activation}) {
            CheckpointMeter meter = new CheckpointMeter();
            List<float[]> checkpointed = gradients(chain, x, h -> chain.apply(h, CheckpointPolicy.memoryBudget(budget),
                    meter));
            assertSameGradients(plain, checkpointed, "budget " + budget);
            assertTrue(meter.peakSavedBytes() <= budget, "budget " + budget + " held " + meter.peakSavedBytes());
            assertTrue(meter.layerForwardCalls() > layers.size(), "some layers ran again: " + meter.layerForwardCalls());
        }
    }

    /** The values of a model's state (parameters and buffers), copied. */
    private static Map<String, float[]> stateValues(Sequential model) {
        Map<String, float[]> values = new TreeMap<>();
        model.stateDict().forEach((name, tensor) -> values.put(name, tensor.toFloatArray()));
        return values;
    }

    private static void assertSameState(Map<String, float[]> expected, Sequential model, String label) {
        Map<String, float[]> actual = stateValues(model);
        assertEquals(expected.keySet(), actual.keySet(), label);
        expected.forEach((name, values) -> assertArrayEquals(values, actual.get(name), label + ": " + name));
    }

    @Test
    void aRefusedBudgetLeavesTheModelAsItWas() {
        // Batch norm updates its running statistics and counts the batch, dropout takes a key
        // from the random stream: the layers that ran before the refusal must take both back.
        // A later layer (two batch norms in one) saves twice what the first does, so that a
        // budget the planner accepts is exceeded once that layer is taped.
        BatchNorm2d norm = new BatchNorm2d(3);
        Sequential chain = new Sequential(norm, new Dropout(0.4f), new Sequential(new BatchNorm2d(3),
                new BatchNorm2d(3)));
        Tensor x = Tensor.randn(12, 4, 3, 5, 5).mul(2f).add(1f).requiresGrad(true);
        Map<String, float[]> before = stateValues(chain);
        RandomState.set(99);

        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> new Sequential(norm, new Dropout(0.4f)).apply(x, CheckpointPolicy.memoryBudget(1000)));
        assertTrue(small.getMessage().startsWith("memoryBudget: 1000 bytes cannot hold even one layer's tape"),
                small.getMessage());
        assertSameState(before, chain, "after a budget too small for the first tape");
        assertEquals(0, small.getSuppressed().length, "every buffer went back once");

        // One batch norm's tape and a little more: no slot, each layer taped alone, the last one's too big.
        CheckpointMeter probe = new CheckpointMeter();
        new Sequential(new BatchNorm2d(3)).apply(x, CheckpointPolicy.none(), probe);
        long budget = probe.peakSavedBytes() + 4;
        IllegalStateException later = assertThrows(IllegalStateException.class,
                () -> chain.apply(x, CheckpointPolicy.memoryBudget(budget)));
        assertTrue(later.getMessage().contains("more than the budget of " + budget), later.getMessage());
        assertSameState(before, chain, "after a later layer exceeded the budget");
        assertEquals(99, RandomState.get(), "the random stream");
        assertEquals(0, later.getSuppressed().length, "every buffer went back once");

        // The same call with room to spare then counts the batch exactly once.
        chain.apply(x, CheckpointPolicy.memoryBudget(1L << 30)).sum().backward();
        assertEquals(1f, norm.numBatchesTracked().item(), "batches counted");
    }

    @Test
    void aParameterSharedByTwoLayers() {
        Linear first = new Linear(8, 8, Activation.TANH, 3);
        Linear again = new Linear(first.weight(), first.bias(), Activation.TANH);
        Sequential chain = new Sequential(first, new Linear(8, 8, Activation.TANH, 4), again);
        assertEquals(4, chain.parameters().size());
        Tensor x = Tensor.randn(6, 4, 8);
        List<float[]> plain = gradients(chain, x, chain::apply);
        for (String policy : List.of("binomial:0", "binomial:1", "every:2", "budget:300")) {
            assertSameGradients(plain, gradients(chain, x, h -> chain.apply(h, CheckpointPolicy.parse(policy))),
                    "shared parameter, " + policy);
        }
    }

    @Test
    void theChainComposesWithTheGraphAroundIt() {
        Sequential chain = tanhChain(5, 8, 9);
        Tensor x = Tensor.randn(3, 4, 8);
        Function<Tensor, Tensor> plain = h -> chain.apply(h.mul(2f)).add(h);
        Function<Tensor, Tensor> checkpointed = h -> chain.apply(h.mul(2f), CheckpointPolicy.binomial(1)).add(h);
        assertSameGradients(gradients(chain, x, plain), gradients(chain, x, checkpointed), "graph around the chain");
    }

    @Test
    void parametersGetGradientsWhenTheInputNeedsNone() {
        Sequential chain = tanhChain(4, 8, 11);
        Tensor x = Tensor.randn(4, 4, 8);
        chain.apply(x).sum().backward();
        List<float[]> expected = parameterGradients(chain.parameters());
        zeroGradients(chain.parameters());
        chain.apply(x, CheckpointPolicy.binomial(1)).sum().backward();
        assertSameGradients(expected, parameterGradients(chain.parameters()), "binomial:1, input needing none");
    }

    /** A layer that notes, for every call, whether its input requires a gradient. */
    private record Watching(Layer inner, List<Boolean> seen) implements Layer {
        @Override
        public Tensor apply(Tensor x) {
            seen.add(x.requiresGrad());
            return inner.apply(x);
        }

        @Override
        public List<Tensor> parameters() {
            return inner.parameters();
        }
    }

    @Test
    void anInputThatNeedsNoGradientGetsNoneComputedUnderEveryPolicy() {
        Tensor x = Tensor.randn(6, 4, 8);
        // First a layer with parameters on the input; then two without parameters first (as a
        // reshape before a convolution), whose outputs need no gradient either.
        for (boolean parameterlessFirst : new boolean[] {false, true}) {
            Sequential tail = tanhChain(parameterlessFirst ? 3 : 4, 8, 13);
            List<Layer> layers = new ArrayList<>(parameterlessFirst ? List.of(new Tanh(), new Tanh()) : List.of());
            layers.addAll(tail.layers());
            Sequential plain = new Sequential(layers);
            plain.apply(x).sum().backward();
            List<float[]> expected = parameterGradients(tail.parameters());
            int watchedAt = parameterlessFirst ? 2 : 0;
            List<Boolean> seen = new ArrayList<>();
            layers.set(watchedAt, new Watching(layers.get(watchedAt), seen));
            Sequential watched = new Sequential(layers);
            for (String name : POLICIES) {
                String label = name + (parameterlessFirst ? ", parameterless layers first" : "");
                zeroGradients(tail.parameters());
                seen.clear();
                watched.apply(x, CheckpointPolicy.parse(name)).sum().backward();
                assertTrue(!seen.isEmpty() && !seen.contains(true),
                        label + ": the first parameter layer's input was made a leaf that needs a gradient: " + seen);
                assertSameGradients(expected, parameterGradients(tail.parameters()), label);
            }
        }
        // A segment whose input needs no gradient runs its function on an input that needs none.
        Linear a = new Linear(8, 8, Activation.TANH, 19);
        List<Boolean> segmentSeen = new ArrayList<>();
        Checkpoint.segment(h -> new Watching(a, segmentSeen).apply(h), x, a.parameters()).sum().backward();
        assertTrue(!segmentSeen.isEmpty() && !segmentSeen.contains(true), "segment: " + segmentSeen);
    }

    @Test
    void segmentsNestAndMatchThePlainGraph() {
        Linear a = new Linear(8, 8, Activation.TANH, 21);
        Linear b = new Linear(8, 8, Activation.SIGMOID, 22);
        Linear c = new Linear(8, 8, Activation.RELU, 23);
        Sequential all = new Sequential(a, b, c);
        Tensor x = Tensor.randn(5, 4, 8);
        List<float[]> plain = gradients(all, x, h -> c.apply(b.apply(a.apply(h))));
        Function<Tensor, Tensor> nested = h -> Checkpoint.segment(
                outer -> c.apply(Checkpoint.segment(inner -> b.apply(a.apply(inner)), outer,
                        List.of(a.weight(), a.bias(), b.weight(), b.bias()))),
                h, all.parameters());
        assertSameGradients(plain, gradients(all, x, nested), "nested segments");
    }

    private static final String ONCE_PER_PASS = " is reversed once per forward pass, even when the first backward "
            + "passed retainGraph = true: its backward pass recomputes from what it kept and consumes that. Run the "
            + "forward pass again for each backward pass (a second Autodiff.vjp pullback, and Autodiff.jacobian in "
            + "reverse mode, are such passes: use JacobianMode.FORWARD), or run it without checkpointing to keep the "
            + "graph";

    /** Every parameter's and the input's gradient, copied. */
    private static List<float[]> snapshot(Tensor x, List<Tensor> parameters) {
        List<float[]> grads = new ArrayList<>();
        grads.add(x.grad().toFloatArray());
        for (Tensor p : parameters) {
            grads.add(p.grad().toFloatArray());
        }
        return grads;
    }

    @Test
    void aCheckpointedChainOrSegmentIsReversedOncePerForwardPassEvenWithRetainGraph() {
        Sequential chain = tanhChain(3, 64, 31);
        Tensor x = Tensor.randn(7, 64, 64).requiresGrad(true);
        Tensor scale = Tensor.randn(9, 64, 64).requiresGrad(true);
        Tensor seed = Tensor.randn(8, 64, 64);
        List<Tensor> leaves = new ArrayList<>(chain.parameters());
        leaves.add(scale);
        // An operation after the chain: its leaf would be accumulated into before the pass
        // reached the chain, were the refusal not made up front.
        Tensor y = chain.apply(x, CheckpointPolicy.sqrt()).mul(scale);
        y.backward(seed, true);
        List<float[]> once = snapshot(x, leaves);
        var error = assertThrows(IllegalStateException.class, () -> y.backward(seed, true));
        assertEquals("backward: a checkpointed chain" + ONCE_PER_PASS, error.getMessage());
        assertSameGradients(once, snapshot(x, leaves), "a refused second backward changes no gradient");

        Layer first = chain.layers().get(0);
        Tensor s = Checkpoint.segment(first, x, first.parameters()).mul(scale);
        s.backward(seed, true);
        List<float[]> segmentOnce = snapshot(x, leaves);
        error = assertThrows(IllegalStateException.class, () -> s.backward(seed, true));
        assertEquals("backward: a checkpointed segment" + ONCE_PER_PASS, error.getMessage());
        assertSameGradients(segmentOnce, snapshot(x, leaves), "a refused second backward changes no gradient");
    }

    /** Without retainGraph the graph around the chain is freed too; the message says retainGraph would not help. */
    @Test
    void aSecondBackwardWithoutRetainGraphSaysThatRetainGraphWouldNotHelp() {
        Sequential chain = tanhChain(3, 16, 41);
        Tensor x = Tensor.randn(7, 4, 16).requiresGrad(true);
        Tensor loss = chain.apply(x, CheckpointPolicy.binomial(1)).tanh().sum();
        loss.backward();
        var error = assertThrows(IllegalStateException.class, loss::backward);
        assertEquals("backward: a checkpointed chain" + ONCE_PER_PASS, error.getMessage());
    }

    @Test
    void passesThatReverseTwiceAreRefusedWithTheSameMessage() {
        Sequential chain = tanhChain(3, 6, 43);
        Tensor x = Tensor.randn(7, 2, 6);
        var vjp = Autodiff.vjp(h -> chain.apply(h, CheckpointPolicy.sqrt()), x);
        vjp.pullback().apply(Tensor.ones(2, 6));
        var error = assertThrows(IllegalStateException.class, () -> vjp.pullback().apply(Tensor.ones(2, 6)));
        assertEquals("backward: a checkpointed chain" + ONCE_PER_PASS, error.getMessage());
        // A Jacobian row by row reverses the chain once per output element.
        error = assertThrows(IllegalStateException.class, () -> Autodiff.jacobian(
                h -> chain.apply(h, CheckpointPolicy.sqrt()), x, Autodiff.JacobianMode.REVERSE));
        assertEquals("backward: a checkpointed chain" + ONCE_PER_PASS, error.getMessage());
        // Column by column is forward mode, which goes through the layers as they are.
        Tensor plain = Autodiff.jacobian(h -> chain.apply(h), x, Autodiff.JacobianMode.FORWARD);
        Tensor checkpointed = Autodiff.jacobian(h -> chain.apply(h, CheckpointPolicy.sqrt()), x,
                Autodiff.JacobianMode.FORWARD);
        assertArrayEquals(plain.toFloatArray(), checkpointed.toFloatArray());
    }

    @Test
    void higherDerivativesThroughACheckpointAreRefused() {
        Sequential chain = tanhChain(3, 6, 47);
        Layer first = chain.layers().get(0);
        Tensor x = Tensor.randn(7, 2, 6);
        var error = assertThrows(UnsupportedOperationException.class, () -> Autodiff.grad(
                v -> Autodiff.grad(u -> chain.apply(u, CheckpointPolicy.sqrt()).sum(), v).sum(), x));
        assertEquals("backward: a checkpointed chain cannot be differentiated twice: a backward pass that records "
                + "itself (Autodiff.grad, vjp or jacobian inside another transform) would have to record the "
                + "recomputation, which checkpointing does not do; run it without checkpointing for higher "
                + "derivatives", error.getMessage());
        error = assertThrows(UnsupportedOperationException.class, () -> Autodiff.grad(
                v -> Autodiff.grad(u -> Checkpoint.segment(first, u).sum(), v).sum(), x));
        assertTrue(error.getMessage().startsWith("backward: a checkpointed segment cannot be differentiated twice"),
                error.getMessage());

        String hvp = ": cannot carry forward-mode tangents while recording for a backward pass (Autodiff.hvp is "
                + "forward mode over reverse mode): its recomputation would drop them and give a wrong result; run it "
                + "without checkpointing for Hessian-vector products";
        Tensor v = Tensor.randn(8, 2, 6);
        error = assertThrows(UnsupportedOperationException.class,
                () -> Autodiff.hvp(u -> chain.apply(u, CheckpointPolicy.sqrt()).sum(), x, v));
        assertEquals("checkpointed chain" + hvp, error.getMessage());
        error = assertThrows(UnsupportedOperationException.class,
                () -> Autodiff.hvp(u -> Checkpoint.segment(first, u).sum(), x, v));
        assertEquals("checkpointed segment" + hvp, error.getMessage());

        // The same derivatives without a checkpoint, and the first derivative with one, work.
        Tensor plain = Autodiff.grad(u -> chain.apply(u).sum(), x);
        assertArrayEquals(plain.toFloatArray(),
                Autodiff.grad(u -> chain.apply(u, CheckpointPolicy.sqrt()).sum(), x).toFloatArray());
        assertEquals(12, Autodiff.grad(w -> Autodiff.grad(u -> chain.apply(u).sum(), w).sum(), x).size());
        assertEquals(12, Autodiff.hvp(u -> chain.apply(u).sum(), x, v).size());
    }

    @Test
    void aTransformAskingForAParameterGradientThatACheckpointAddsOutOfSightIsRefused() {
        Tensor x = Tensor.randn(3, 1, 3);
        Tensor w = Tensor.randn(4, 1, 3);
        // The segment adds w's gradient into w.grad() during its own pass: grad would return zeros for it.
        var error = assertThrows(UnsupportedOperationException.class, () -> Autodiff.grad(
                a -> Checkpoint.segment(h -> h.mul(a.get(1)), a.get(0), List.of(a.get(1))).sum(), List.of(x, w)));
        assertTrue(error.getMessage().startsWith("Autodiff: a checkpointed segment adds its parameters' gradients "
                + "into their grad() during its own backward pass"), error.getMessage());
        assertTrue(error.getMessage().contains("for its parameter of shape [1, 3] it would return zeros"),
                error.getMessage());
        // A parameter computed inside the transform from what it asks about is refused too...
        error = assertThrows(UnsupportedOperationException.class, () -> Autodiff.grad(a -> {
            Tensor doubled = a.get(1).mul(2f);
            return Checkpoint.segment(h -> h.mul(doubled), a.get(0), List.of(doubled)).sum();
        }, List.of(x, w)));
        assertTrue(error.getMessage().contains("computed from a tensor the transform asks about"), error.getMessage());
        // ...but one computed outside it from other leaves is not: the input's gradient is right.
        Tensor leaf = Tensor.randn(8, 1, 3).requiresGrad(true);
        Tensor computed = leaf.mul(2f);
        assertArrayEquals(Autodiff.grad(h -> h.mul(computed).sum(), x).toFloatArray(),
                Autodiff.grad(h -> Checkpoint.segment(u -> u.mul(computed), h, List.of(computed)).sum(), x)
                        .toFloatArray());
        // A module's parameter already requires a gradient, so grad records its backward pass,
        // which a checkpoint refuses too; either way before any gradient changes.
        Sequential chain = tanhChain(2, 3, 61);
        Tensor weight = chain.parameters().get(0);
        assertThrows(UnsupportedOperationException.class, () -> Autodiff.grad(
                a -> chain.apply(a.get(0), CheckpointPolicy.sqrt()).sum(), List.of(x, weight)));
        assertEquals(null, weight.grad());
        // With respect to the input alone it works, as before.
        assertArrayEquals(Autodiff.grad(h -> chain.apply(h).sum(), x).toFloatArray(),
                Autodiff.grad(h -> chain.apply(h, CheckpointPolicy.sqrt()).sum(), x).toFloatArray());
    }

    @Test
    void aRecomputationThatFailsLeavesTheSegmentRefusingRatherThanReturningNoGradient() {
        int[] runs = {0};
        Tensor x = Tensor.randn(5, 1, 3).requiresGrad(true);
        Tensor s = Checkpoint.segment(h -> {
            if (runs[0]++ == 1) {
                throw new IllegalStateException("the recomputation fails");
            }
            return h.mul(2f);
        }, x);
        Tensor total = s.sum();
        assertEquals("the recomputation fails", assertThrows(IllegalStateException.class, total::backward).getMessage());
        var again = assertThrows(IllegalStateException.class, () -> s.sum().backward());
        assertTrue(again.getMessage().startsWith("backward: a checkpointed segment's backward pass failed part-way"),
                again.getMessage());
        assertEquals(null, x.grad());
    }

    @Test
    void anEmptyChainIsTheIdentity() {
        Tensor x = Tensor.randn(6, 2, 3).requiresGrad(true);
        assertSame(x, Checkpoint.chain(List.of(), List.of(), x, CheckpointPolicy.sqrt(), new CheckpointMeter()));
    }

    /** A last layer that passes its input through must not let the chain recycle the caller's output. */
    @Test
    void theOutputSurvivesWhenTheLastLayerPassesItsInputThrough() {
        Dropout identity = new Dropout(0.5f).training(false);
        Sequential chain = new Sequential(new Linear(64, 64, Activation.TANH, 5), new Linear(64, 64, Activation.TANH, 6),
                new Linear(64, 64, Activation.TANH, 7), identity);
        Tensor x = Tensor.randn(9, 64, 64).requiresGrad(true);
        float[] expected = chain.apply(x.detach()).toFloatArray();
        for (String policy : List.of("every:1", "binomial:0", "binomial:1", "sqrt")) {
            Tensor y = chain.apply(x, CheckpointPolicy.parse(policy));
            y.mul(y).sum().backward();
            assertArrayEquals(expected, y.toFloatArray(), policy);
        }
    }
}
