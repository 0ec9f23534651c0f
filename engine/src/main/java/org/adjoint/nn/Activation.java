package org.adjoint.nn;

/**
 * Activation functions that {@link Linear} and {@link Conv2d} apply fused with their bias: one
 * pass over the GEMM result (or inside the convolution's copy-out) forward, one pass for the
 * derivative backward.
 */
public enum Activation {
    /** No activation: {@code y = x}. */
    IDENTITY,
    /** {@code y = max(x, 0)}. */
    RELU,
    /** {@code y = tanh x}. */
    TANH,
    /** {@code y = 1 / (1 + e^−x)}. */
    SIGMOID
}
