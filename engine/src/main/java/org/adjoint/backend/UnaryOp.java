package org.adjoint.backend;

/** Element-wise functions of one operand, see {@link Backend#unary}. */
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
    POW
}
