package org.adjoint.nn;

import org.adjoint.Tensor;

/**
 * {@code max(x, 0)}, element-wise, as a module for {@code Sequential}. After a {@link Linear}, the
 * fused form {@code new Linear(in, out, Activation.RELU, seed)} does the same in one pass.
 */
public final class ReLU extends Stateless {

    /** Creates the module. */
    public ReLU() {
    }

    @Override
    public Tensor apply(Tensor x) {
        return x.relu();
    }
}
