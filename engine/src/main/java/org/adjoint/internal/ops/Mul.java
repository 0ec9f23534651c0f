package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.BinaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * {@code lhs * rhs} with broadcasting (the attribute is the broadcast shape). Saves each
 * operand only when the other one needs a gradient, since each VJP reads only the other
 * operand.
 */
public final class Mul extends Primitive<int[]> {

    private static final Mul MUL = new Mul();

    private Mul() {
        super("mul");
    }

    /**
     * Multiplies element-wise.
     *
     * @param lhs left operand
     * @param rhs right operand
     * @return the broadcast product
     */
    public static Tensor apply(Tensor lhs, Tensor rhs) {
        return Ops.apply(MUL, Shapes.broadcast("mul", Compute.shape(lhs), Compute.shape(rhs)), lhs, rhs);
    }

    /** Whether input {@code index} (0 or 1) is read by the VJP of the other one, which needs a gradient. */
    static boolean readByOther(int index, Tensor[] inputs) {
        return index < 2 && inputs[1 - index].requiresGrad();
    }

    @Override
    protected Tensor forward(int[] shape, Tensor[] inputs, Residuals residuals) {
        return Compute.binary("mul", BinaryOp.MUL, inputs[0], inputs[1], shape);
    }

    @Override
    protected boolean savesInput(int[] shape, int index, Tensor[] inputs) {
        return readByOther(index, inputs);
    }

    @Override
    protected Tensor vjp(int[] shape, Values saved, int input, Tensor cotangent) {
        return SumTo.apply(cotangent.mul(saved.input(1 - input)), saved.inputShape(input));
    }

    @Override
    protected Tensor jvp(int[] shape, Values primals, Tensor[] tangents) {
        Tensor dl = tangents[0];
        Tensor dr = tangents[1];
        Tensor t = Add.sum(dl == null ? null : dl.mul(primals.input(1)), dr == null ? null : primals.input(0).mul(dr));
        return BroadcastTo.apply(t, shape);
    }
}
