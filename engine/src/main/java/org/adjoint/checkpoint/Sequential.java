package org.adjoint.checkpoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import org.adjoint.Tensor;
import org.adjoint.nn.Layer;

/**
 * A chain of layers, {@code x_i = layer_i(x_{i−1})}, that can run under a
 * {@link CheckpointPolicy}: the whole chain is then one node on the outer tape, so it
 * composes with anything before and after it, and its backward pass executes the planned
 * {@link Schedule} — restore a checkpoint, re-run layers (recording their tapes), reverse
 * them, free.
 *
 * <pre>{@code
 * Sequential chain = new Sequential(layers);
 * Tensor y = chain.apply(x, CheckpointPolicy.binomial(4));   // 4 stored outputs at most
 * loss(y).backward();                                         // re-runs layers as planned
 * }</pre>
 *
 * <p>Requirements of a checkpointed chain: the layers' trainable tensors are leaves (their
 * gradients are accumulated directly when each layer is reversed), layers are deterministic
 * apart from draws from {@link org.adjoint.nn.RandomState} (which are replayed), and the
 * planner's byte model takes the first layer as typical (for {@code memoryBudget}, a layer
 * that saves more than the first fails the pass with a clear error rather than exceeding
 * the budget silently). A checkpointed chain cannot be differentiated twice
 * ({@code createGraph}).
 */
public final class Sequential implements Layer {

    private final List<Layer> layers;

    /**
     * Creates a chain.
     *
     * @param layers the layers, in order; at least one
     */
    public Sequential(List<? extends Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Sequential: a chain needs at least one layer");
        }
        this.layers = List.copyOf(layers);
    }

    /**
     * Creates a chain.
     *
     * @param layers the layers, in order; at least one
     */
    public Sequential(Layer... layers) {
        this(List.of(layers));
    }

    /**
     * Runs the layers one after the other, recording every tape (the policy {@code none}
     * without the chain node).
     *
     * @param x the chain input
     * @return the chain output
     */
    @Override
    public Tensor apply(Tensor x) {
        Tensor h = x;
        for (Layer layer : layers) {
            h = layer.apply(h);
        }
        return h;
    }

    /**
     * Runs the chain under a policy, as one node of the outer tape.
     *
     * @param x      the chain input
     * @param policy what to keep and what to recompute
     * @return the chain output
     */
    public Tensor apply(Tensor x, CheckpointPolicy policy) {
        return apply(x, policy, new CheckpointMeter());
    }

    /**
     * Runs the chain under a policy, counting its forward calls and saved bytes into a meter
     * (the forward pass now, the backward pass when it runs).
     *
     * @param x      the chain input
     * @param policy what to keep and what to recompute
     * @param meter  where to count
     * @return the chain output
     */
    public Tensor apply(Tensor x, CheckpointPolicy policy, CheckpointMeter meter) {
        return ChainNode.apply(layers, parameters(), x, policy, meter);
    }

    /**
     * The layers.
     *
     * @return an unmodifiable list
     */
    public List<Layer> layers() {
        return layers;
    }

    /**
     * The distinct parameters of all layers, in order of first appearance (a tensor shared
     * by two layers appears once).
     *
     * @return the parameters
     */
    @Override
    public List<Tensor> parameters() {
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Tensor> all = new ArrayList<>();
        for (Layer layer : layers) {
            for (Tensor p : layer.parameters()) {
                if (seen.add(p)) {
                    all.add(p);
                }
            }
        }
        return List.copyOf(all);
    }
}
