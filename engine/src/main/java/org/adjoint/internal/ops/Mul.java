package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.BinaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;
import org.adjoint.internal.Shapes;

/**
 * {@code lhs * rhs} with broadcasting. Saves each operand only when the other one needs a
 * gradient, since each VJP reads only the other operand.
 */
public final class Mul extends Node {

    private final int[] lhsShape;
    private final int[] rhsShape;
    private Saved savedLhs;
    private Saved savedRhs;

    private Mul(int[] lhsShape, int[] rhsShape) {
        this.lhsShape = lhsShape;
        this.rhsShape = rhsShape;
    }

    /**
     * Multiplies element-wise.
     *
     * @param lhs left operand
     * @param rhs right operand
     * @return the broadcast product
     */
    public static Tensor apply(Tensor lhs, Tensor rhs) {
        int[] shape = Shapes.broadcast("mul", Compute.shape(lhs), Compute.shape(rhs));
        Tensor out = Compute.binary("mul", BinaryOp.MUL, lhs, rhs, shape);
        if (Forward.any(lhs, rhs)) {
            Tensor dl = Forward.tangent(lhs);
            Tensor dr = Forward.tangent(rhs);
            Tensor t = Add.sum(dl == null ? null : dl.mul(Forward.primal(rhs)), dr == null ? null : Forward.primal(lhs).mul(dr));
            Forward.attach(out, BroadcastTo.apply(t, shape));
        }
        if (!Graph.recording(lhs, rhs)) {
            return out;
        }
        Mul node = new Mul(Compute.shape(lhs), Compute.shape(rhs));
        if (rhs.requiresGrad()) {
            node.savedLhs = Saved.of(lhs);
        }
        if (lhs.requiresGrad()) {
            node.savedRhs = Saved.of(rhs);
        }
        return Graph.record(node, out, lhs, rhs);
    }

    @Override
    public String name() {
        return "mul";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        return input == 0
                ? SumTo.apply(cotangent.mul(savedRhs.get(name())), lhsShape)
                : SumTo.apply(cotangent.mul(savedLhs.get(name())), rhsShape);
    }

    @Override
    protected void releaseSaved() {
        savedLhs = null;
        savedRhs = null;
    }

    @Override
    public java.util.List<Tensor> saved() {
        return Saved.tensors(savedLhs, savedRhs);
    }
}
