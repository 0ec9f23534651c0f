package org.adjoint.nn;

import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.DropoutMask;

/**
 * Inverted dropout: in training, each element is zeroed with probability {@code p} and the
 * rest scaled by {@code 1 / (1 − p)}; in evaluation it is the identity. Each call takes one
 * key from {@link RandomState} and the mask is a hash of that key and each element's index:
 * the recorded node keeps the key, so re-running it draws the same mask, and a checkpointed
 * chain that re-runs the layer replays the same key.
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
        // The key is taken only once the mask exists, so that running out of memory leaves the stream as it was.
        Tensor y = DropoutMask.apply(x, p, RandomState.peekKey());
        RandomState.advance();
        return y;
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
