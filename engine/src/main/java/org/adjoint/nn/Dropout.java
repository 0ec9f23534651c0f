package org.adjoint.nn;

import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.internal.HostArrays;

/**
 * Inverted dropout: in training, each element is zeroed with probability {@code p} and the
 * rest scaled by {@code 1 / (1 − p)}; in evaluation it is the identity. The mask comes from
 * {@link RandomState}, so a checkpointed chain that re-runs the layer replays the same mask.
 */
public final class Dropout implements Module {

    private final float p;
    private boolean training = true;

    /**
     * Creates the layer.
     *
     * @param p probability of dropping an element, in {@code [0, 1)}
     */
    public Dropout(float p) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("Dropout: probability must be in [0, 1), got " + p);
        }
        this.p = p;
    }

    /**
     * Switches between training (random masks) and evaluation (identity).
     *
     * @param training whether to drop
     * @return this layer
     */
    public Dropout training(boolean training) {
        this.training = training;
        return this;
    }

    @Override
    public Tensor apply(Tensor x) {
        if (!training || p == 0f) {
            return x;
        }
        // Allocated before any draw, so that running out of heap leaves the random state as it was.
        float[] mask = HostArrays.floats("dropout mask", x.size());
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.length; i++) {
            mask[i] = RandomState.nextFloat() < p ? 0f : keep;
        }
        // Tensor.of with no shape means 1-D, so a rank-0 input takes a rank-0 mask explicitly.
        return x.mul(x.rank() == 0 ? Tensor.scalar(mask[0]) : Tensor.of(mask, x.shape()));
    }

    @Override
    public Dropout train(boolean training) {
        return training(training);
    }

    @Override
    public String toString() {
        return "Dropout(" + p + ")";
    }

    @Override
    public Map<String, Tensor> namedParameters() {
        return Map.of();
    }
}
