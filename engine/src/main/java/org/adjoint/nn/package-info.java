/**
 * Layers and losses built on fused primitives: {@link org.adjoint.nn.Linear} (GEMM, bias and
 * activation in one), {@link org.adjoint.nn.Losses#crossEntropy} (log-softmax and
 * negative log-likelihood in one), and {@link org.adjoint.nn.Sequential}, the chain of layers
 * that also runs under a checkpoint policy.
 */
package org.adjoint.nn;
