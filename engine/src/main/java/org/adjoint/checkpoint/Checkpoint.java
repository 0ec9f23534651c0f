package org.adjoint.checkpoint;

import java.util.List;
import java.util.function.UnaryOperator;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Recomputation;
import org.adjoint.nn.Layer;
import org.adjoint.nn.RandomState;

/**
 * One checkpointed segment, like {@code torch.utils.checkpoint}: the forward pass runs the
 * function without recording anything inside it, and the backward pass runs it again,
 * recording, and backpropagates through that. Usable anywhere in a graph, and nestable: a
 * segment inside a segment records its own node only when the outer one is re-run.
 *
 * <pre>{@code
 * Tensor y = Checkpoint.segment(h -> block.apply(h), x, block.parameters());
 * }</pre>
 *
 * <p>Gradients reach {@code x} and the listed parameters, which must be leaves. Random draws
 * from {@link RandomState} inside the function are replayed on the re-run. As with a
 * checkpointed {@link org.adjoint.nn.Sequential}, a segment is reversed once per forward pass (even with
 * {@code retainGraph}) and supports no higher derivatives.
 */
public final class Checkpoint {

    private Checkpoint() {
    }

    /**
     * A segment whose gradient flows to its input only.
     *
     * @param function the segment
     * @param x        its input
     * @return its output
     */
    public static Tensor segment(UnaryOperator<Tensor> function, Tensor x) {
        return segment(function, x, List.of());
    }

    /**
     * A segment whose gradient flows to its input and to the parameters it uses.
     *
     * @param function   the segment
     * @param x          its input
     * @param parameters leaves the function reads that need gradients
     * @return its output
     */
    public static Tensor segment(UnaryOperator<Tensor> function, Tensor x, List<Tensor> parameters) {
        Tensor[] inputs = new Tensor[parameters.size() + 1];
        inputs[0] = x;
        for (int i = 0; i < parameters.size(); i++) {
            inputs[i + 1] = parameters.get(i);
        }
        if (Graph.recording(inputs)) {
            RecomputingNode.refuseTangents("checkpointed segment", inputs);
        }
        long random = RandomState.get();
        Tensor y;
        try (var _ = GradMode.noGrad()) {
            y = function.apply(x);
        }
        if (!Graph.recording(inputs)) {
            return y;
        }
        return Graph.record(new Segment(function, random, x.requiresGrad()), Compute.view(y, y.shape()), inputs);
    }

    /**
     * A chain of layers run under a policy as one node of the outer tape: what
     * {@link org.adjoint.nn.Sequential#apply(Tensor, CheckpointPolicy, CheckpointMeter)} calls.
     *
     * @param layers     the layers, in order
     * @param parameters the layers' distinct trainable leaves
     * @param x          the chain input
     * @param policy     what to keep and what to recompute
     * @param meter      where to count forward calls and saved bytes
     * @return the chain output
     */
    public static Tensor chain(List<? extends Layer> layers, List<Tensor> parameters, Tensor x, CheckpointPolicy policy,
                               CheckpointMeter meter) {
        return ChainNode.apply(List.<Layer>copyOf(layers), parameters, x, policy, meter);
    }

    /** The node of one segment: holds only the segment's input, as saved. */
    private static final class Segment extends RecomputingNode {
        private final UnaryOperator<Tensor> function;
        private final long random;
        private final boolean inputNeedsGrad;

        Segment(UnaryOperator<Tensor> function, long random, boolean inputNeedsGrad) {
            this.function = function;
            this.random = random;
            this.inputNeedsGrad = inputNeedsGrad;
        }

        @Override
        public String name() {
            return "checkpointed segment";
        }

        @Override
        public List<Tensor> saved() {
            Tensor held = heldInput();
            return held == null ? List.of() : List.of(held);
        }

        @Override
        protected Tensor recompute(Tensor cotangent) {
            long outer = RandomState.get();
            RandomState.set(random);
            try (var _ = GradMode.enableGrad(); var _ = Recomputation.enter()) {
                // An input that needs no gradient (a batch of data) is not made a leaf that gets
                // one: its gradient would be computed and dropped.
                Tensor leaf = inputNeedsGrad ? input().detach().requiresGrad(true) : input().detach();
                Tensor y = function.apply(leaf);
                if (y.requiresGrad()) {
                    y.backward(cotangent);
                }
                return inputNeedsGrad ? leaf.grad() : null;
            } finally {
                RandomState.set(outer);
            }
        }
    }
}
