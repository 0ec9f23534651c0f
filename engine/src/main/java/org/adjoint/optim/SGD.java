package org.adjoint.optim;

import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;

/**
 * Stochastic gradient descent with PyTorch's semantics: {@code d = g + λ p} (weight decay
 * {@code λ}, 0 by default), then {@code p ← p − lr · d} (plain) or, with momentum {@code μ},
 * {@code v ← μ v + d} (with {@code v = d} at the first step) and {@code p ← p − lr · v}.
 * Parameters are updated in their storage with backend kernels; once the velocities exist, a
 * step allocates nothing (no backend buffer, and no heap object once the JIT has compiled it).
 *
 * <p>In-place updates are the one place where Adjoint changes a tensor's values. Each update
 * bumps the parameter's version, so a gradient computed through a graph recorded before the
 * step fails with a clear error instead of reading the new values.
 */
public final class SGD extends InPlaceOptimizer {

    private static final String NAME = "SGD";

    private final float momentum;
    private final Buffer[] velocities;

    /**
     * Plain SGD.
     *
     * @param parameters   distinct leaves that require a gradient
     * @param learningRate the step size, {@code > 0}
     */
    public SGD(List<Tensor> parameters, float learningRate) {
        this(parameters, learningRate, 0f);
    }

    /**
     * SGD with momentum.
     *
     * @param parameters   distinct leaves that require a gradient
     * @param learningRate the step size, {@code > 0}
     * @param momentum     the velocity's decay μ in {@code [0, 1)}
     */
    public SGD(List<Tensor> parameters, float learningRate, float momentum) {
        this(parameters, learningRate, momentum, 0f);
    }

    /**
     * SGD with momentum and weight decay (an L2 penalty {@code λ/2 · ‖p‖²} added to the loss,
     * applied through the gradient).
     *
     * @param parameters   distinct leaves that require a gradient
     * @param learningRate the step size, {@code > 0}
     * @param momentum     the velocity's decay μ in {@code [0, 1)} (0 for none)
     * @param weightDecay  the coefficient λ, {@code >= 0}
     * @throws IllegalArgumentException for a value out of range or a parameter that is not a
     *                                  distinct leaf requiring a gradient
     */
    public SGD(List<Tensor> parameters, float learningRate, float momentum, float weightDecay) {
        if (!(learningRate > 0f && learningRate < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("SGD: learning rate must be finite and > 0, got " + learningRate);
        }
        if (!(momentum >= 0f && momentum < 1f)) {
            throw new IllegalArgumentException("SGD: momentum must be in [0, 1), got " + momentum);
        }
        super(NAME, parameters, learningRate, weightDecay);
        this.velocities = new Buffer[this.parameters.size()];
        this.momentum = momentum;
    }

    @Override
    public void step() {
        // Every buffer is allocated before the first parameter changes, so that an allocation
        // that fails leaves the model as it was instead of with half a step applied.
        Buffer[] newVelocities = null;
        for (int i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            if (p.grad() == null) {
                continue;
            }
            Backend backend = Compute.backend(stepName, p, p.grad());
            // A strided parameter or gradient gets its contiguous copy here, not mid-step.
            InPlace.buffer(p);
            InPlace.buffer(p.grad());
            if (momentum > 0f && velocities[i] == null) {
                if (newVelocities == null) {
                    newVelocities = new Buffer[parameters.size()];
                }
                newVelocities[i] = backend.allocate(flats[i][0]);
            }
            if (momentum > 0f || weightDecay > 0f) {
                inPlace.prepareScalar(backend);
            }
        }
        for (int i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            Tensor grad = p.grad();
            if (grad == null) {
                continue;
            }
            Backend backend = Compute.backend(stepName, p, grad);
            Buffer param = InPlace.buffer(p);
            Buffer gradient = InPlace.buffer(grad);
            int[] flat = flats[i];
            if (momentum > 0f) {
                Buffer velocity = velocities[i];
                if (velocity == null) {
                    velocity = newVelocities[i];
                    InPlace.copyInto(backend, gradient, velocity, flat);
                    velocities[i] = velocity;
                } else {
                    inPlace.withScalar(backend, BinaryOp.MUL, velocity, momentum, velocity, flat);
                    backend.axpy(1f, gradient, velocity);
                }
                if (weightDecay > 0f) {
                    backend.axpy(weightDecay, param, velocity);
                }
                backend.axpy(-learningRate, velocity, param);
            } else {
                if (weightDecay > 0f) {
                    // p − lr·(g + λp) = (1 − lr·λ)·p − lr·g: no buffer for g + λp is needed.
                    float shrink = (float) (1.0 - (double) learningRate * weightDecay);
                    inPlace.withScalar(backend, BinaryOp.MUL, param, shrink, param, flat);
                }
                backend.axpy(-learningRate, gradient, param);
            }
            InPlace.changed(p);
        }
    }

    @Override
    public SGD learningRate(float rate) {
        super.learningRate(rate);
        return this;
    }

    /**
     * The velocity's decay.
     *
     * @return μ, 0 for plain SGD
     */
    public float momentum() {
        return momentum;
    }
}
