package org.adjoint.nn;

import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.adjoint.Tensor;
import org.adjoint.checkpoint.Checkpoint;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;

/**
 * A chain of layers, {@code x_i = layer_i(x_{i−1})}, that can run under a
 * {@link CheckpointPolicy}: the whole chain is then one node on the outer tape, so it
 * composes with anything before and after it, and its backward pass executes the planned
 * {@link org.adjoint.checkpoint.Schedule} — restore a checkpoint, re-run layers (recording
 * their tapes), reverse them, free.
 *
 * <pre>{@code
 * Sequential chain = new Sequential(layers);
 * Tensor y = chain.apply(x, CheckpointPolicy.binomial(4));   // 4 stored outputs at most
 * loss(y).backward();                                         // re-runs layers as planned
 * }</pre>
 *
 * <p>Requirements of a checkpointed chain: the layers' trainable tensors are leaves (their
 * gradients are accumulated directly when each layer is reversed), layers are deterministic
 * apart from draws from {@link RandomState} (which are replayed), and the
 * planner's byte model takes the first layer whose tape saves anything as typical (for
 * {@code memoryBudget}, a layer
 * that saves more than the first fails the pass with a clear error rather than exceeding
 * the budget silently). A checkpointed chain is reversed once per forward pass, even with
 * {@code retainGraph} (its backward pass consumes what it kept), and supports no higher
 * derivatives ({@code grad} of {@code grad}, {@code hvp}); each of these fails with an error
 * that says so before any gradient changes. Apply the layers without a policy for them.
 *
 * <p>A {@link Conv2d} with a ReLU followed by a {@link MaxPool2d} whose windows do not overlap
 * runs as one layer, one primitive that never keeps the convolution's output (the pooled
 * values and the argmax are all its backward pass needs), with the bits of the two run one
 * after the other; {@link #layers()} and the parameters' names are the layers as given, and a
 * policy plans over the layers as they run.
 *
 * <p>As a {@link Module}, the chain names its children's parameters by position, as
 * PyTorch's {@code nn.Sequential} does: {@code 0.weight}, {@code 0.bias}, {@code 2.weight}; a
 * plain {@link Layer} child's parameters are {@code i.0}, {@code i.1}, ... {@link #train(boolean)}
 * reaches every child module.
 */
public final class Sequential implements Module {

    private final List<Layer> layers;
    /** What runs: the layers, each ReLU convolution followed by max pooling fused into one ({@link ConvPool}). */
    private final List<Layer> runs;

    /**
     * Creates a chain.
     *
     * @param layers the layers, in order; at least one
     */
    public Sequential(List<? extends Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Sequential: a chain needs at least one layer");
        }
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) == null) {
                throw new IllegalArgumentException("Sequential: layer " + i + " of " + layers.size() + " is null");
            }
        }
        this.layers = List.copyOf(layers);
        this.runs = ConvPool.fuse(this.layers);
    }

    /**
     * Creates a chain.
     *
     * @param layers the layers, in order; at least one
     */
    public Sequential(Layer... layers) {
        this(Arrays.asList(layers)); // not List.of, which would refuse a null layer without naming it
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
        for (Layer layer : runs) {
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
        return Checkpoint.chain(runs, parameters(), x, policy, meter);
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
     * The distinct parameters of all layers by name, in order of first appearance (a tensor
     * shared by two layers appears once, under its first name).
     *
     * @return an unmodifiable, ordered map
     */
    @Override
    public Map<String, Tensor> namedParameters() {
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            if (layer instanceof Module module) {
                for (Map.Entry<String, Tensor> entry : module.namedParameters().entrySet()) {
                    if (seen.add(entry.getValue())) {
                        all.put(i + "." + entry.getKey(), entry.getValue());
                    }
                }
            } else {
                List<Tensor> parameters = layer.parameters();
                for (int j = 0; j < parameters.size(); j++) {
                    if (seen.add(parameters.get(j))) {
                        all.put(i + "." + j, parameters.get(j));
                    }
                }
            }
        }
        return Collections.unmodifiableMap(all);
    }

    /**
     * The buffers of the child modules by name, prefixed with their position as
     * {@link #namedParameters()} does ({@code 1.running_mean}); a tensor shared by two layers
     * appears once.
     *
     * @return an unmodifiable, ordered map
     */
    @Override
    public Map<String, Tensor> namedBuffers() {
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof Module module) {
                for (Map.Entry<String, Tensor> entry : module.namedBuffers().entrySet()) {
                    if (seen.add(entry.getValue())) {
                        all.put(i + "." + entry.getKey(), entry.getValue());
                    }
                }
            }
        }
        return Collections.unmodifiableMap(all);
    }

    @Override
    public Sequential train(boolean training) {
        for (Layer layer : layers) {
            if (layer instanceof Module module) {
                module.train(training);
            }
        }
        return this;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("Sequential(");
        for (int i = 0; i < layers.size(); i++) {
            text.append(i == 0 ? "" : ", ").append(layers.get(i));
        }
        return text.append(')').toString();
    }
}
