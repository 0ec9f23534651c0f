/**
 * Optimizers that update parameters in place, and learning-rate schedules that drive them.
 *
 * <p>{@link org.adjoint.optim.Optimizer} is what a training loop talks to:
 * {@link org.adjoint.optim.SGD} (momentum, weight decay), {@link org.adjoint.optim.Adam}
 * (L2 weight decay through the gradient) and {@link org.adjoint.optim.AdamW} (decoupled
 * weight decay), each with PyTorch's update rule. A
 * {@link org.adjoint.optim.LearningRateSchedule} ({@link org.adjoint.optim.StepDecay},
 * {@link org.adjoint.optim.CosineDecay}) sets an optimizer's learning rate from a step or
 * epoch counter.
 */
package org.adjoint.optim;
