package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.BinaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * {@code lhs + rhs} with broadcasting (the attribute is the broadcast shape); each cotangent is
 * summed back to its operand's shape.
 */
public final class Add extends Primitive<int[]> {

    private static final Add ADD = new Add();

    private Add() {
        super("add");
    }

    /**
     * Adds two tensors.
     *
     * @param lhs left operand
     * @param rhs right operand
     * @return the broadcast sum
     */
    public static Tensor apply(Tensor lhs, Tensor rhs) {
        return Ops.apply(ADD, Shapes.broadcast("add", Compute.shape(lhs), Compute.shape(rhs)), lhs, rhs);
    }

    /**
     * Adds two tensors for a composite that is recorded as an addition ({@code sub}, of a
     * negation): the shapes and backends are checked under the composite's name.
     *
     * @param op  the composite's name, for errors
     * @param lhs left operand
     * @param rhs right operand
     * @return the broadcast sum
     */
    public static Tensor apply(String op, Tensor lhs, Tensor rhs) {
        Compute.backend(op, lhs, rhs);
        return Ops.apply(ADD, Shapes.broadcast(op, Compute.shape(lhs), Compute.shape(rhs)), lhs, rhs);
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

    private static Tensor broadcast(Tensor tangent, int[] shape) {
        return tangent == null ? null : BroadcastTo.apply(tangent, shape);
    }

    @Override
    protected Tensor forward(int[] shape, Tensor[] inputs, Residuals residuals) {
        return Compute.binary("add", BinaryOp.ADD, inputs[0], inputs[1], shape);
    }

    @Override
    protected Tensor vjp(int[] shape, Values saved, int input, Tensor cotangent) {
        return SumTo.apply(cotangent, saved.inputShape(input));
    }

    @Override
    protected Tensor jvp(int[] shape, Values primals, Tensor[] tangents) {
        return sum(broadcast(tangents[0], shape), broadcast(tangents[1], shape));
    }
}
