package org.adjoint.nn;

import org.adjoint.Tensor;

/**
 * {@code tanh x}, element-wise, as a module for {@code Sequential}. After a {@link Linear}, the
 * fused form {@code new Linear(in, out, Activation.TANH, seed)} does the same in one pass.
 */
public final class Tanh extends Stateless {

    /** Creates the module. */
    public Tanh() {
    }

    @Override
    public Tensor apply(Tensor x) {
        return x.tanh();
    }
}
