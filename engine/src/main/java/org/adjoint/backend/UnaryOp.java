package org.adjoint.backend;

/**
 * Element-wise functions of one operand, see {@link ArithmeticOps#unary}: the one vocabulary
 * the engine, the fused linear tail ({@link LinearTailOps}: {@code RELU}, {@code TANH},
 * {@code SIGMOID}) and every backend use. A backend maps these names to its kernels in one
 * table of its own.
 */
public enum UnaryOp {
    /** {@code -x}. */
    NEG,
    /** {@code e^x}. */
    EXP,
    /** Natural logarithm. */
    LOG,
    /** Square root. */
    SQRT,
    /** Hyperbolic tangent. */
    TANH,
    /** Logistic sigmoid. */
    SIGMOID,
    /** {@code max(x, 0)}. */
    RELU,
    /** 1 where {@code x > 0}, else 0. */
    STEP,
    /** {@code x^p} with the parameter {@code p}. */
    POW,
    /** Exact GELU {@code x·Φ(x)}, Φ the standard normal distribution function (the erf form). */
    GELU,
    /** The derivative of {@code GELU}: {@code Φ(x) + x·φ(x)}, φ the standard normal density. */
    GELU_GRAD
}
