package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;

/** {@code -x}; saves nothing. */
public final class Neg extends Node {

    private Neg() {
    }

    /**
     * Negates element-wise.
     *
     * @param x input
     * @return {@code -x}
     */
    public static Tensor apply(Tensor x) {
        Tensor out = Compute.unary(UnaryOp.NEG, 0f, x);
        if (Forward.any(x)) {
            Forward.attach(out, Forward.tangent(x).neg());
        }
        return Graph.recording(x) ? Graph.record(new Neg(), out, x) : out;
    }

    @Override
    public String name() {
        return "neg";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        return cotangent.neg();
    }
}
