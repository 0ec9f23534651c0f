package org.adjoint.optim;

import java.util.List;

import org.adjoint.Tensor;

/**
 * Updates a fixed list of parameters in place from their gradients.
 *
 * <p>A training step is {@code zeroGrad()}, a forward pass, {@code loss.backward()}, then
 * {@code step()}. Each step changes the parameters' storage and bumps their version, so a
 * graph recorded before the step can no longer be differentiated through them. The learning
 * rate can be changed between steps, which is how a {@link LearningRateSchedule} drives an
 * optimizer. Optimizers are not thread-safe.
 */
public interface Optimizer {

    /**
     * Updates every parameter that has a gradient, in place; parameters whose gradient is
     * {@code null} (never reached by a backward pass, or cleared with {@link Tensor#zeroGrad()})
     * are left alone, state included. After {@link #zeroGrad()} a gradient is zero, not
     * {@code null}, so, as in PyTorch with {@code set_to_none=False}, a parameter the last
     * backward pass did not reach still moves by its momentum or moments. The state a step
     * needs (moments, velocities) is allocated before any parameter changes, so a step that
     * fails because the backend cannot allocate leaves every parameter as it was.
     */
    void step();

    /**
     * Sets every parameter's gradient to zero in place, keeping its buffer, so that the next
     * backward pass accumulates into it without allocating (PyTorch's
     * {@code zero_grad(set_to_none=False)}). A gradient tensor obtained earlier sees the zeros.
     */
    void zeroGrad();

    /**
     * The parameters this optimizer updates, in the order given.
     *
     * @return an unmodifiable list
     */
    List<Tensor> parameters();

    /**
     * The learning rate the next {@link #step()} uses.
     *
     * @return the rate
     */
    float learningRate();

    /**
     * Sets the learning rate for the following steps; the optimizer's state is kept.
     *
     * @param rate finite and {@code >= 0} (0, where a schedule ends, makes steps that move
     *             nothing, though stateful optimizers still update their averages)
     * @return this optimizer
     * @throws IllegalArgumentException for a negative, infinite or NaN rate
     */
    Optimizer learningRate(float rate);
}
