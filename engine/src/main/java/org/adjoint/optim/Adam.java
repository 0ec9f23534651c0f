package org.adjoint.optim;

import java.util.List;

import org.adjoint.Tensor;

/**
 * Adam (Kingma and Ba, 2015) with PyTorch's semantics. For each parameter {@code p} with
 * gradient {@code g}, at its {@code t}-th step:
 *
 * <pre>
 * g ← g + λ p                      (weight decay λ as an L2 penalty, 0 by default)
 * m ← β1 m + (1 − β1) g
 * v ← β2 v + (1 − β2) g²
 * p ← p − lr · m̂ / (√v̂ + ε)        with m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t)
 * </pre>
 *
 * <p>Defaults: β1 0.9, β2 0.999, ε 1e-8, λ 0. The moments start at zero and are allocated at
 * a parameter's first step; {@code t} counts the steps at which that parameter had a gradient.
 * Updates run in place with backend kernels on the parameter's storage. The moments and one
 * scratch buffer per distinct parameter size are allocated at the first step; later steps
 * allocate nothing, neither backend buffers nor, once the JIT has compiled them, heap objects.
 * Each
 * update bumps the parameter's version, so a graph recorded before the step can no longer be
 * differentiated through it. For weight decay that does not pass through the moments, use
 * {@link AdamW}.
 */
public final class Adam extends AdaptiveMoments {

    /** The default decay of the first moment. */
    public static final float DEFAULT_BETA1 = 0.9f;
    /** The default decay of the second moment. */
    public static final float DEFAULT_BETA2 = 0.999f;
    /** The default term that keeps the denominator away from zero. */
    public static final float DEFAULT_EPSILON = 1e-8f;

    /**
     * Adam with the default β1, β2 and ε, and no weight decay.
     *
     * @param parameters   distinct leaves that require a gradient
     * @param learningRate the step size, {@code > 0}
     * @throws IllegalArgumentException for a bad rate or parameter
     */
    public Adam(List<Tensor> parameters, float learningRate) {
        this(parameters, learningRate, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPSILON, 0f);
    }

    /**
     * Adam with every hyper-parameter given.
     *
     * @param parameters   distinct leaves that require a gradient
     * @param learningRate the step size, {@code > 0}
     * @param beta1        the first moment's decay, in {@code [0, 1)}
     * @param beta2        the second moment's decay, in {@code [0, 1)}
     * @param epsilon      added to {@code √v̂}, finite and {@code > 0} (with 0, a
     *                     parameter whose gradient and moments are still 0 would become NaN)
     * @param weightDecay  the L2 coefficient λ added to the gradient, finite and {@code >= 0}
     * @throws IllegalArgumentException for a value out of range (the message names it and its
     *                                  value) or a parameter that is not a distinct leaf
     *                                  requiring a gradient
     */
    public Adam(List<Tensor> parameters, float learningRate, float beta1, float beta2, float epsilon,
                float weightDecay) {
        super("Adam", false, parameters, learningRate, beta1, beta2, epsilon, weightDecay);
    }

    @Override
    public Adam learningRate(float rate) {
        super.learningRate(rate);
        return this;
    }
}
