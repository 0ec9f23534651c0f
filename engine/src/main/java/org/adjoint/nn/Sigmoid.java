package org.adjoint.nn;

import org.adjoint.Tensor;

/**
 * {@code 1 / (1 + e^−x)}, element-wise, as a module for {@code Sequential}. After a {@link Linear}, the
 * fused form {@code new Linear(in, out, Activation.SIGMOID, seed)} does the same in one pass.
 */
public final class Sigmoid extends Stateless {

    /** Creates the module. */
    public Sigmoid() {
    }

    @Override
    public Tensor apply(Tensor x) {
        return x.sigmoid();
    }
}
