package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.BinaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Shapes;

/** {@code lhs + rhs} with broadcasting; each cotangent is summed back to its operand's shape. */
public final class Add extends Node {

    private final int[] lhsShape;
    private final int[] rhsShape;

    private Add(int[] lhsShape, int[] rhsShape) {
        this.lhsShape = lhsShape;
        this.rhsShape = rhsShape;
    }

    /**
     * Adds two tensors.
     *
     * @param lhs left operand
     * @param rhs right operand
     * @return the broadcast sum
     */
    public static Tensor apply(Tensor lhs, Tensor rhs) {
        int[] shape = Shapes.broadcast("add", Compute.shape(lhs), Compute.shape(rhs));
        Tensor out = Compute.binary("add", BinaryOp.ADD, lhs, rhs, shape);
        if (Forward.any(lhs, rhs)) {
            Forward.attach(out, sum(broadcast(Forward.tangent(lhs), shape), broadcast(Forward.tangent(rhs), shape)));
        }
        if (!Graph.recording(lhs, rhs)) {
            return out;
        }
        return Graph.record(new Add(Compute.shape(lhs), Compute.shape(rhs)), out, lhs, rhs);
    }

    private static Tensor broadcast(Tensor tangent, int[] shape) {
        return tangent == null ? null : BroadcastTo.apply(tangent, shape);
    }

    /**
     * Sum of two tangents, either of which may be {@code null} (zero).
     *
     * @param a a tangent or {@code null}
     * @param b a tangent or {@code null}
     * @return their sum, or {@code null} when both are zero
     */
    static Tensor sum(Tensor a, Tensor b) {
        return a == null ? b : b == null ? a : a.add(b);
    }

    @Override
    public String name() {
        return "add";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        return SumTo.apply(cotangent, input == 0 ? lhsShape : rhsShape);
    }
}
