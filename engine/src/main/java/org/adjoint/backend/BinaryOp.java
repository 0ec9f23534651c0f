package org.adjoint.backend;

/**
 * Element-wise functions of two operands, see {@link ArithmeticOps#binary}: the vocabulary the
 * engine and every backend share.
 */
public enum BinaryOp {
    /** {@code lhs + rhs}. */
    ADD,
    /** {@code lhs - rhs}. */
    SUB,
    /** {@code lhs * rhs}. */
    MUL,
    /** {@code lhs / rhs}. */
    DIV
}
