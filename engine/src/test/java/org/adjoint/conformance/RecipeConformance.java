package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.RandomOps;
import org.adjoint.checkpoint.Checkpoint;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.conformance.programs.JavaPrinter;
import org.adjoint.conformance.programs.Program;
import org.adjoint.conformance.programs.ProgramGenerator;
import org.adjoint.conformance.programs.Watch;
import org.adjoint.internal.Node;
import org.adjoint.internal.TensorImpl;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Dropout;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.nn.RandomState;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Nodes are recipes: every node recorded by a random program (with dropout in a third of
 * them) computes its output again from its inputs bit for bit, and a backward pass after every
 * node dropped what it saved (recomputing it when a rule reads it) gives the same gradients bit
 * for bit. {@code -Dadjoint.test.recipes=N} sets how many programs run (default
 * {@value #DEFAULT_PROGRAMS}).
 */
public abstract class RecipeConformance extends BackendConformance {

    /** Programs per run unless {@code adjoint.test.recipes} says otherwise. */
    public static final int DEFAULT_PROGRAMS = 1000;

    private static final int PROGRAMS = Integer.getInteger("adjoint.test.recipes", DEFAULT_PROGRAMS);
    private static final ProgramGenerator GENERATOR = new ProgramGenerator();

    static List<Long> seeds() {
        List<Long> seeds = new ArrayList<>();
        for (long seed = 1; seed <= PROGRAMS; seed++) {
            seeds.add(seed);
        }
        return seeds;
    }

    /** Every value of the program (inputs requiring gradients), then, for every third seed, dropout and a tanh after it. */
    private static List<Tensor> values(Program program, List<Tensor> inputs) {
        List<Tensor> values = new ArrayList<>(List.of(program.evaluate(inputs, new Watch())));
        if (program.seed() % 3 == 0) {
            RandomState.set(program.seed());
            Tensor dropped = new Dropout(0.4f).apply(values.getLast());
            values.add(dropped);
            values.add(dropped.tanh().add(values.getLast()));
        }
        return values;
    }

    private static List<Tensor> leaves(Program program) {
        List<Tensor> inputs = program.inputTensors();
        for (Tensor input : inputs) {
            input.requiresGrad(true);
        }
        return inputs;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyNodeComputesItsOutputAgainBitForBit(long seed) {
        Program program = GENERATOR.generate(seed);
        List<Tensor> values = values(program, leaves(program));
        Set<Node> checked = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor value : values) {
            Node node = TensorImpl.of(value).producer();
            if (node != null && checked.add(node)) {
                long random = RandomState.get();
                Tensor again = node.recompute();
                assertEquals(random, RandomState.get(), "a re-run takes no key from the stream");
                assertBitwise(value, again, "'" + node.name() + "' re-run", program);
            }
        }
        // Nodes inside composite operations (sub is add and neg) have no value of their own
        // above: each must re-run all the same, and feeds one of the values checked above.
        for (Node node : reachable(values)) {
            assertNotNull(node.recompute(), node.name());
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void droppedSavedTensorsAreRecomputedIntoTheSameGradients(long seed) {
        Program program = GENERATOR.generate(seed);
        List<Tensor> kept = leaves(program);
        List<Tensor> keptValues = values(program, kept);
        Tensor keptOutput = keptValues.getLast();
        if (!keptOutput.requiresGrad()) {
            return;
        }
        keptOutput.backward(Tensor.ones(keptOutput.shape()));

        List<Tensor> dropped = leaves(program);
        List<Tensor> droppedValues = values(program, dropped);
        Tensor droppedOutput = droppedValues.getLast();
        int count = 0;
        for (Node node : reachable(List.of(droppedOutput))) {
            count += node.dropSaved();
            assertEquals(0, node.dropSaved(), "what was dropped stays dropped until read");
        }
        droppedOutput.backward(Tensor.ones(droppedOutput.shape()));
        for (int i = 0; i < kept.size(); i++) {
            Tensor expected = kept.get(i).grad();
            Tensor actual = dropped.get(i).grad();
            assertEquals(expected == null, actual == null, "gradient of input " + i);
            if (expected != null) {
                assertBitwise(expected, actual, "gradient of input " + i + " after " + count + " saved tensors dropped",
                        program);
            }
        }
    }

    /**
     * A backward pass hands back the buffers it allocated once nothing pending uses them. A
     * value recomputed for a node deeper in the graph (here {@code u}, refilled into
     * {@code v}'s saved inputs while {@code w} reads {@code v}) is held by that node until its
     * own pullback, so it must not be among them: the tensors are large enough for a
     * backend's pool to hand the buffer out again at once.
     */
    @Test
    void aValueRecomputedForADeeperNodeOutlivesThePassThatRecomputedIt() {
        int[] shape = {64, 128};
        Tensor[] grads = new Tensor[2];
        for (int round = 0; round < 2; round++) {
            Tensor x = Tensor.randn(5, shape).requiresGrad(true);
            Tensor u = x.mul(x).tanh();
            Tensor v = u.mul(u).add(u);
            Tensor w = v.mul(v).tanh();
            Tensor loss = w.mul(w).sum();
            if (round == 1) {
                for (Node node : reachable(List.of(loss))) {
                    node.dropSaved();
                }
            }
            loss.backward();
            grads[round] = x.grad();
        }
        assertBitwise(grads[0], grads[1], "gradient after every saved tensor was dropped", null);
    }

    /** The counter-based mask: a node re-run on another thread, after the stream moved on, draws the same mask. */
    @Test
    void aDropoutNodeDrawsItsMaskFromItsKeyAlone() throws Exception {
        RandomState.set(11);
        Tensor x = Tensor.ones(4, 50).requiresGrad(true);
        Tensor y = new Dropout(0.5f).apply(x);
        Node node = TensorImpl.of(y).producer();
        RandomState.set(12);
        new Dropout(0.5f).apply(x);
        Tensor[] again = new Tensor[1];
        Thread other = new Thread(() -> again[0] = node.recompute());
        other.start();
        other.join();
        assertBitwise(y, again[0], "dropout re-run on another thread", null);
        int zeros = 0;
        for (float v : y.toFloatArray()) {
            zeros += v == 0f ? 1 : 0;
        }
        assertTrue(zeros > 60 && zeros < 140, "about half of 200 dropped, got " + zeros);
    }

    /**
     * The backend draws the dropout mask that {@link RandomOps#dropoutMaskElement} says, bit for
     * bit, at sizes that stay on one thread and that split across threads or a grid.
     */
    @Test
    void theBackendDrawsTheSameDropoutMaskAsTheHost() {
        Backend backend = backend();
        long[] keys = {0L, -1L, 0x0123456789ABCDEFL};
        float[] probabilities = {0f, 0.2f, 0.5f};
        int[] sizes = {1, 1000, 300_001};
        for (int draw = 0; draw < keys.length; draw++) {
            long key = keys[draw];
            float p = probabilities[draw];
            for (int size : sizes) {
                Buffer mask = backend.dropoutMask(key, p, size);
                float[] drawn = backend.download(mask);
                backend.release(mask);
                assertEquals(size, drawn.length);
                int zeros = 0;
                for (int i = 0; i < size; i++) {
                    float expected = RandomOps.dropoutMaskElement(key, i, p);
                    if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(drawn[i])) {
                        fail("dropout mask of key " + key + ", p " + p + ", size " + size + ": element " + i + " was "
                                + drawn[i] + ", the host draws " + expected);
                    }
                    zeros += drawn[i] == 0f ? 1 : 0;
                }
                if (size == 300_001) {
                    assertEquals(p, zeros / (double) size, 0.005, "share dropped of key " + key);
                }
            }
        }
        Buffer none = backend.dropoutMask(7L, 0.5f, 0);
        assertEquals(0, backend.download(none).length, "an empty mask");
        backend.release(none);
    }

    /** Cross-entropy re-runs from the labels it uploaded, although the caller reuses its array for the next batch. */
    @Test
    void crossEntropyReRunsFromItsOwnCopyOfTheLabels() {
        int[] labels = {2, 0, 1};
        Tensor logits = Tensor.randn(5, 3, 4).requiresGrad(true);
        Tensor loss = Losses.crossEntropy(logits, labels);
        labels[0] = 3;
        labels[2] = 3;
        assertBitwise(loss, TensorImpl.of(loss).producer().recompute(), "crossEntropy re-run", null);
    }

    /**
     * A checkpointed chain and a checkpointed segment keep their input as a saved tensor like a
     * rule's: dropped with the rest, it is recomputed by its producer when the chain's backward
     * pass starts from it, and the gradients (dropout included) do not change by one bit.
     */
    @Test
    void checkpointedChainsAndSegmentsRecomputeTheirDroppedInput() {
        List<float[]> kept = checkpointedGradients(false);
        List<float[]> dropped = checkpointedGradients(true);
        for (int i = 0; i < kept.size(); i++) {
            assertBitwise(Tensor.of(kept.get(i)), Tensor.of(dropped.get(i)), "gradient " + i, null);
        }
    }

    private static List<float[]> checkpointedGradients(boolean drop) {
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            layers.add(new Linear(6, 6, Activation.TANH, 40 + i));
            layers.add(new Dropout(0.25f));
        }
        Sequential chain = new Sequential(layers);
        Linear block = new Linear(6, 6, Activation.SIGMOID, 50);
        Tensor w = Tensor.randn(51, 3, 6).requiresGrad(true);
        RandomState.set(52);
        Tensor h = w.mul(w).tanh();
        Tensor y = chain.apply(h, CheckpointPolicy.binomial(1));
        Tensor z = Checkpoint.segment(block, h.exp(), block.parameters());
        Tensor loss = y.sum().add(z.sum());
        int count = 0;
        if (drop) {
            for (Node node : reachable(List.of(loss))) {
                count += node.dropSaved();
            }
            // tanh's output (the chain's input) twice, exp's output (the segment's input) twice.
            assertTrue(count >= 4, "dropped " + count);
        }
        loss.backward();
        List<float[]> gradients = new ArrayList<>(List.of(w.grad().toFloatArray()));
        for (Tensor p : chain.parameters()) {
            gradients.add(p.grad().toFloatArray());
        }
        for (Tensor p : block.parameters()) {
            gradients.add(p.grad().toFloatArray());
        }
        return gradients;
    }

    /**
     * Recomputation runs without recursion and computes each producer once: a chain of 20000
     * additions, whose nodes save nothing, under an exponential whose output was dropped; and
     * 60 levels of {@code h/2 + h/2}, where every level reaches the one below by two paths.
     */
    @Test
    void longChainsAndDiamondsRecomputeWithoutRecursion() {
        Tensor w = Tensor.of(new float[] {0.25f, -0.5f}).requiresGrad(true);
        Tensor h = w;
        for (int i = 0; i < 20_000; i++) {
            h = h.add(1e-5f);
        }
        for (int i = 0; i < 60; i++) {
            h = h.mul(0.5f).add(h.mul(0.5f));
        }
        Tensor y = h.exp();
        Tensor expected = y.detach();
        Node exp = TensorImpl.of(y).producer();
        assertEquals(1, exp.dropSaved());
        assertBitwise(expected, exp.recompute(), "exp re-run", null);
        y.sum().backward();
        assertBitwise(expected, w.grad(), "gradient of exp(h) with dh/dw = 1", null);
    }

    /** A saved tensor whose producer cannot re-run (a leaf, here) is kept; the rest is dropped and recomputed. */
    @Test
    void leavesAreNeverDroppedAndAChainRecomputesRecursively() {
        Tensor w = Tensor.of(new float[] {0.5f, -1f, 2f}).requiresGrad(true);
        Tensor h = w.mul(w).exp().mul(w).sigmoid();
        int dropped = 0;
        for (Node node : reachable(List.of(h))) {
            dropped += node.dropSaved();
        }
        // exp's and sigmoid's outputs, and the product's first operand; never w, a leaf.
        assertEquals(3, dropped);
        h.sum().backward();
        Tensor expected = Tensor.of(new float[] {0.5f, -1f, 2f}).requiresGrad(true);
        expected.mul(expected).exp().mul(expected).sigmoid().sum().backward();
        assertBitwise(expected.grad(), w.grad(), "gradient through a chain of dropped tensors", null);
    }

    @Test
    void aReRunRefusesALeafOrConstantChangedInPlaceSinceTheForwardPass() {
        Tensor w = Tensor.of(new float[] {0.5f, -1f, 2f}).requiresGrad(true);
        Tensor y = w.exp();                                   // saves its output, not w: w is a leaf edge
        Tensor u = Tensor.of(new float[] {4f, 5f, 6f}).requiresGrad(true);
        Tensor c = Tensor.of(new float[] {1f, 2f, 3f});
        Tensor z = u.mul(3f).add(c);                          // c: a constant add refers to without saving
        w.sum().backward();
        new SGD(List.of(w), 0.1f).step();                     // w changes in place
        var error = assertThrows(IllegalStateException.class, () -> TensorImpl.of(y).producer().recompute());
        assertEquals("exp: cannot re-run its forward computation: input 0 of shape [3] was modified in place after "
                + "the forward pass (version 0 then 1)", error.getMessage());
        assertBitwise(z, TensorImpl.of(z).producer().recompute(), "add of an unchanged constant", null);
        TensorImpl.of(c).version().increment();               // as an in-place write to c would
        error = assertThrows(IllegalStateException.class, () -> TensorImpl.of(z).producer().recompute());
        assertTrue(error.getMessage().startsWith("add: cannot re-run its forward computation: input 1 of shape [3]"),
                error.getMessage());
    }

    @Test
    void savedTensorsThatCarryATangentAreNotDropped() {
        Tensor x = Tensor.of(new float[] {0.3f, -0.7f, 1.1f});
        Tensor v = Tensor.of(new float[] {1f, 2f, -1f});
        Function<Tensor, Tensor> f = t -> t.tanh().mul(t.sigmoid()).exp().sum();
        Tensor expected = Autodiff.hvp(f, x, v);
        // Inside forward over reverse, the saved values carry tangents; a recomputed one would not.
        Tensor actual = Autodiff.hvp(t -> {
            Tensor y = f.apply(t);
            for (Node node : reachable(List.of(y))) {
                node.dropSaved();
            }
            return y;
        }, x, v);
        assertBitwise(expected, actual, "hvp with dropSaved inside", null);
    }

    private static List<Node> reachable(List<Tensor> roots) {
        List<Node> nodes = new ArrayList<>();
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> stack = new ArrayDeque<>();
        for (Tensor root : roots) {
            Node node = TensorImpl.of(root).producer();
            if (node != null && seen.add(node)) {
                stack.push(node);
            }
        }
        while (!stack.isEmpty()) {
            Node node = stack.pop();
            nodes.add(node);
            for (int i = 0; i < node.inputs(); i++) {
                Node producer = node.inputProducer(i);
                if (producer != null && seen.add(producer)) {
                    stack.push(producer);
                }
            }
        }
        return nodes;
    }

    private static void assertBitwise(Tensor expected, Tensor actual, String what, Program program) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i])) {
                fail(what + ": element " + i + " was " + e[i] + ", now " + a[i]
                        + (program == null ? "" : " in program of seed " + program.seed() + ":\n"
                        + JavaPrinter.program(program)));
            }
        }
    }
}
