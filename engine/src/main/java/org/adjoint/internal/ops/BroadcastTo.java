package org.adjoint.internal.ops;

import java.util.Arrays;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/** Repeats a tensor along broadcast axes (the attribute is the target shape); the VJP sums them back. */
public final class BroadcastTo extends Primitive<int[]> {

    private static final BroadcastTo BROADCAST_TO = new BroadcastTo();

    private BroadcastTo() {
        super("broadcastTo");
    }

    /**
     * Materialises {@code x} broadcast to {@code shape}.
     *
     * @param x     a tensor
     * @param shape a shape that {@code x}'s shape broadcasts to
     * @return {@code x} itself when the shapes are equal, else a new tensor
     */
    public static Tensor apply(Tensor x, int[] shape) {
        int[] xShape = Compute.shape(x);
        if (Arrays.equals(xShape, shape)) {
            return x;
        }
        if (!Shapes.broadcastsTo(xShape, shape)) {
            throw new IllegalArgumentException("broadcastTo: cannot broadcast " + Shapes.str(xShape)
                    + " to " + Shapes.str(shape));
        }
        return Ops.apply(BROADCAST_TO, shape, x);
    }

    @Override
    protected Tensor forward(int[] shape, Tensor[] inputs, Residuals residuals) {
        return Compute.broadcastTo(inputs[0], shape);
    }

    @Override
    protected Tensor vjp(int[] shape, Values saved, int input, Tensor cotangent) {
        return SumTo.apply(cotangent, saved.inputShape(0));
    }

    @Override
    protected Tensor jvp(int[] shape, Values primals, Tensor[] tangents) {
        return apply(tangents[0], shape);
    }
}
