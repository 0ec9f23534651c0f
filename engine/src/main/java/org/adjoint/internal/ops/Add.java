package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.BinaryOp;
import org.adjoint.internal.Compute;
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
        if (!Graph.recording(lhs, rhs)) {
            return out;
        }
        return Graph.record(new Add(Compute.shape(lhs), Compute.shape(rhs)), out, lhs, rhs);
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
