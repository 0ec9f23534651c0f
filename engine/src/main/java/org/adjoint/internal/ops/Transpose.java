package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * Swaps the last two axes: a view of the same storage, with the last two strides swapped (no
 * copy). Linear, and its own VJP and JVP.
 */
public final class Transpose extends Primitive<Void> {

    private static final Transpose TRANSPOSE = new Transpose();

    private Transpose() {
        super("transpose");
    }

    /**
     * Transposes the last two axes of {@code x}.
     *
     * @param x a tensor of rank at least 2
     * @return the transposed view
     */
    public static Tensor apply(Tensor x) {
        int[] shape = Compute.shape(x);
        if (shape.length < 2) {
            throw new IllegalArgumentException("transpose: needs rank at least 2, got shape " + Shapes.str(shape));
        }
        return Ops.apply(TRANSPOSE, null, x);
    }

    @Override
    protected Tensor forward(Void none, Tensor[] inputs, Residuals residuals) {
        return Compute.transpose(inputs[0]);
    }

    @Override
    protected Tensor vjp(Void none, Values saved, int input, Tensor cotangent) {
        return apply(cotangent);
    }

    @Override
    protected Tensor jvp(Void none, Values primals, Tensor[] tangents) {
        return apply(tangents[0]);
    }
}
