package org.adjoint.optim;

/**
 * A learning rate as a function of a counter that starts at 0.
 *
 * <p>The counter is whatever the training loop counts: optimizer steps (call
 * {@link #apply(Optimizer, int)} before every {@code step()}) or epochs (call it once at the
 * start of each epoch). Lengths given to a schedule, such as {@link StepDecay#period()} or
 * {@link CosineDecay#totalSteps()}, are in the same unit. A schedule holds no state, so
 * {@code rate(n)} is the same however often and in whatever order it is asked.
 *
 * <pre>{@code
 * Adam adam = new Adam(model.parameters(), 1e-3f);
 * LearningRateSchedule schedule = new CosineDecay(1e-3f, 1e-5f, steps, 100);
 * for (int step = 0; step < steps; step++) {
 *     schedule.apply(adam, step);
 *     adam.zeroGrad();
 *     loss(model).backward();
 *     adam.step();
 * }
 * }</pre>
 */
@FunctionalInterface
public interface LearningRateSchedule {

    /**
     * The learning rate at a point of training.
     *
     * @param step the step or epoch, from 0
     * @return the rate, finite and {@code >= 0}
     * @throws IllegalArgumentException for a negative {@code step}
     */
    float rate(int step);

    /**
     * Sets the optimizer's learning rate to {@link #rate(int) rate(step)}.
     *
     * @param optimizer the optimizer to drive
     * @param step      the step or epoch, from 0
     * @throws IllegalArgumentException for a negative {@code step}
     */
    default void apply(Optimizer optimizer, int step) {
        optimizer.learningRate(rate(step));
    }
}
