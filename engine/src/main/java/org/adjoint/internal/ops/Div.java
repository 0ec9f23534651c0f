package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.BinaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * {@code lhs / rhs} with broadcasting (the attribute is the broadcast shape), one IEEE division
 * an element as PyTorch's: a product with the reciprocal would make {@code 1 / rhs} infinite
 * for a subnormal divisor ({@code 1e-3 / 1e-39} gave ∞, {@code 0 / 1e-39} NaN) and round
 * twice elsewhere. The divisor is saved when either operand needs a gradient, the dividend
 * when the divisor does: {@code d/dlhs = g / rhs}, {@code d/drhs = −(g / rhs) · (lhs / rhs)}.
 */
public final class Div extends Primitive<int[]> {

    private static final Div DIV = new Div();

    private Div() {
        super("div");
    }

    /**
     * Divides element-wise.
     *
     * @param lhs the dividend
     * @param rhs the divisor
     * @return the broadcast quotient
     */
    public static Tensor apply(Tensor lhs, Tensor rhs) {
        return Ops.apply(DIV, Shapes.broadcast("div", Compute.shape(lhs), Compute.shape(rhs)), lhs, rhs);
    }

    @Override
    protected Tensor forward(int[] shape, Tensor[] inputs, Residuals residuals) {
        return Compute.binary("div", BinaryOp.DIV, inputs[0], inputs[1], shape);
    }

    @Override
    protected boolean savesInput(int[] shape, int index, Tensor[] inputs) {
        return index == 1 ? inputs[0].requiresGrad() || inputs[1].requiresGrad() : index == 0 && inputs[1].requiresGrad();
    }

    @Override
    protected Tensor vjp(int[] shape, Values saved, int input, Tensor cotangent) {
        Tensor scaled = cotangent.div(saved.input(1));
        Tensor grad = input == 0 ? scaled : scaled.mul(saved.input(0).div(saved.input(1))).neg();
        return SumTo.apply(grad, saved.inputShape(input));
    }

    @Override
    protected Tensor jvp(int[] shape, Values primals, Tensor[] tangents) {
        Tensor dl = tangents[0];
        Tensor dr = tangents[1];
        Tensor rhs = primals.input(1);
        Tensor t = Add.sum(dl == null ? null : dl.div(rhs),
                dr == null ? null : dr.div(rhs).mul(primals.input(0).div(rhs)).neg());
        return BroadcastTo.apply(t, shape);
    }
}
