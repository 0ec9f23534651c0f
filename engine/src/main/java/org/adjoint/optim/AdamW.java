package org.adjoint.optim;

import java.util.List;

import org.adjoint.Tensor;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter, 2019), with PyTorch's semantics.
 * For each parameter {@code p} with gradient {@code g}, at its {@code t}-th step:
 *
 * <pre>
 * p ← p − lr · λ · p               (decay on the parameter, not through the gradient)
 * m ← β1 m + (1 − β1) g
 * v ← β2 v + (1 − β2) g²
 * p ← p − lr · m̂ / (√v̂ + ε)        with m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t)
 * </pre>
 *
 * <p>Unlike {@link Adam}'s L2 penalty, the decay here is not rescaled by {@code √v̂}, so every
 * weight shrinks by the same factor {@code 1 − lr·λ} per step. Defaults: β1 0.9, β2 0.999,
 * ε 1e-8 and λ 0.01 (PyTorch's). State, allocation and versioning are
 * as for {@link Adam}.
 */
public final class AdamW extends AdaptiveMoments {

    /** PyTorch's default decoupled weight decay. */
    public static final float DEFAULT_WEIGHT_DECAY = 0.01f;

    /**
     * AdamW with the default β1, β2, ε and weight decay.
     *
     * @param parameters   distinct leaves that require a gradient
     * @param learningRate the step size, {@code > 0}
     * @throws IllegalArgumentException for a bad rate or parameter
     */
    public AdamW(List<Tensor> parameters, float learningRate) {
        this(parameters, learningRate, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPSILON,
                DEFAULT_WEIGHT_DECAY);
    }

    /**
     * AdamW with every hyper-parameter given.
     *
     * @param parameters   distinct leaves that require a gradient
     * @param learningRate the step size, {@code > 0}
     * @param beta1        the first moment's decay, in {@code [0, 1)}
     * @param beta2        the second moment's decay, in {@code [0, 1)}
     * @param epsilon      added to {@code √v̂}, finite and {@code > 0} (with 0, a
     *                     parameter whose gradient and moments are still 0 would become NaN)
     * @param weightDecay  the decoupled coefficient λ, finite and {@code >= 0}
     * @throws IllegalArgumentException for a value out of range (the message names it and its
     *                                  value) or a parameter that is not a distinct leaf
     *                                  requiring a gradient
     */
    public AdamW(List<Tensor> parameters, float learningRate, float beta1, float beta2, float epsilon,
                 float weightDecay) {
        super("AdamW", true, parameters, learningRate, beta1, beta2, epsilon, weightDecay);
    }

    private AdamW(List<Tensor> parameters, float learningRate, float beta1, float beta2, float epsilon,
                  float weightDecay, float[] decays) {
        super("AdamW", true, parameters, learningRate, beta1, beta2, epsilon, weightDecay, decays);
    }

    /**
     * AdamW over parameter groups with the default β1, β2 and ε: each group's parameters
     * decay by the group's coefficient.
     *
     * @param groups       the groups; every parameter in one of them only
     * @param learningRate the step size, {@code > 0}
     * @return the optimizer; its {@link #parameters()} are the groups' in order, its
     *         {@link #weightDecay()} the largest group decay
     * @throws IllegalArgumentException for a bad rate, a bad decay (naming the group) or a
     *                                  parameter that is not a distinct leaf requiring a gradient
     */
    public static AdamW grouped(List<ParameterGroup> groups, float learningRate) {
        return grouped(groups, learningRate, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPSILON);
    }

    /**
     * AdamW over parameter groups with every hyper-parameter given.
     *
     * @param groups       the groups; every parameter in one of them only
     * @param learningRate the step size, {@code > 0}
     * @param beta1        the first moment's decay, in {@code [0, 1)}
     * @param beta2        the second moment's decay, in {@code [0, 1)}
     * @param epsilon      added to {@code √v̂}, finite and {@code > 0} (with 0, a
     *                     parameter whose gradient and moments are still 0 would become NaN)
     * @return the optimizer
     * @throws IllegalArgumentException for a value out of range or a parameter that is not a
     *                                  distinct leaf requiring a gradient
     */
    public static AdamW grouped(List<ParameterGroup> groups, float learningRate, float beta1, float beta2,
                                float epsilon) {
        List<Tensor> all = new java.util.ArrayList<>();
        List<Float> decays = new java.util.ArrayList<>();
        float largest = 0f;
        for (int g = 0; g < groups.size(); g++) {
            float decay = groups.get(g).weightDecay();
            if (!(decay >= 0f && decay < Float.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("AdamW: weight decay of group " + g + " must be finite and >= 0, got "
                        + decay);
            }
            largest = Math.max(largest, decay);
            for (Tensor p : groups.get(g).parameters()) {
                all.add(p);
                decays.add(decay);
            }
        }
        float[] each = new float[decays.size()];
        for (int i = 0; i < each.length; i++) {
            each[i] = decays.get(i);
        }
        return new AdamW(all, learningRate, beta1, beta2, epsilon, largest, each);
    }

    @Override
    public AdamW learningRate(float rate) {
        super.learningRate(rate);
        return this;
    }
}
