package org.adjoint.conformance.programs;

import org.adjoint.Tensor;

/**
 * An element-wise operation that a test plugs into the generator, such as a
 * {@link org.adjoint.autodiff.CustomFunction} with a deliberately wrong derivative, to show
 * that the checks catch it and the shrinker isolates it.
 */
public interface CustomOp {

    /**
     * Applies the operation.
     *
     * @param x the operand
     * @return a tensor of {@code x}'s shape
     */
    Tensor apply(Tensor x);

    /**
     * The same call as Java source, for printed programs.
     *
     * @param operand the operand's variable name
     * @return an expression, for example {@code new WrongSquare().apply(t3)}
     */
    String java(String operand);
}
