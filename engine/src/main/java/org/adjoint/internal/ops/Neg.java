package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;

/** {@code -x}: linear, so both rules negate; saves nothing. */
public final class Neg extends Primitive<Void> {

    private static final Neg NEG = new Neg();

    private Neg() {
        super("neg");
    }

    /**
     * Negates element-wise.
     *
     * @param x input
     * @return {@code -x}
     */
    public static Tensor apply(Tensor x) {
        return Ops.apply(NEG, null, x);
    }

    @Override
    protected Tensor forward(Void none, Tensor[] inputs, Residuals residuals) {
        return Compute.unary(UnaryOp.NEG, 0f, inputs[0]);
    }

    @Override
    protected Tensor vjp(Void none, Values saved, int input, Tensor cotangent) {
        return cotangent.neg();
    }

    @Override
    protected Tensor jvp(Void none, Values primals, Tensor[] tangents) {
        return tangents[0].neg();
    }
}
