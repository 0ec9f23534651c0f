/**
 * Gradient checkpointing: policies, the planner that turns a policy into an explicit
 * {@link org.adjoint.checkpoint.Schedule}, and the layers that execute schedules
 * ({@link org.adjoint.nn.Sequential}, {@link org.adjoint.checkpoint.Checkpoint}).
 */
package org.adjoint.checkpoint;
