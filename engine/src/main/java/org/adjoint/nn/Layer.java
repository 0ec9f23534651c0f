package org.adjoint.nn;

import java.util.List;
import java.util.function.UnaryOperator;

import org.adjoint.Tensor;

/** A differentiable function of one tensor with trainable parameters. */
public interface Layer extends UnaryOperator<Tensor> {

    /**
     * The trainable tensors, leaves that require a gradient, in a stable order.
     *
     * @return the parameters (an empty list for a layer without any)
     */
    List<Tensor> parameters();
}
