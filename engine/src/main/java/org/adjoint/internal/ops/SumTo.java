package org.adjoint.internal.ops;

import java.util.Arrays;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/** Sums a tensor down to a shape that broadcasts to it (the attribute); the VJP broadcasts back. */
public final class SumTo extends Primitive<int[]> {

    private static final SumTo SUM_TO = new SumTo();

    private SumTo() {
        super("sum");
    }

    /**
     * Sums {@code x} over the axes that broadcasting {@code shape} to {@code x} would expand.
     *
     * @param x     a tensor
     * @param shape the target shape
     * @return {@code x} itself when the shapes are equal, else the reduced tensor
     */
    public static Tensor apply(Tensor x, int[] shape) {
        int[] xShape = Compute.shape(x);
        if (Arrays.equals(xShape, shape)) {
            return x;
        }
        if (!Shapes.broadcastsTo(shape, xShape)) {
            throw new IllegalArgumentException("sum: cannot reduce " + Shapes.str(xShape) + " to " + Shapes.str(shape));
        }
        return Ops.apply(SUM_TO, shape, x);
    }

    /**
     * Sums {@code x} down to {@code shape} as a new tensor, as the public {@code sum} methods
     * promise: where nothing is summed (a scalar, an axis of length 1 kept), a view of
     * {@code x} rather than {@code x} itself, so that changing the result's flags cannot
     * change {@code x}'s.
     *
     * @param x     a tensor
     * @param shape the target shape
     * @return a tensor other than {@code x}
     */
    public static Tensor fresh(Tensor x, int[] shape) {
        return Arrays.equals(Compute.shape(x), shape) ? Reshape.apply(x, shape) : apply(x, shape);
    }

    /**
     * Sums {@code x} along one axis.
     *
     * @param x       a tensor
     * @param axis    the axis, negative counting from the end
     * @param keepDim keep the axis with length 1
     * @return the sums, a new tensor
     * @throws IllegalArgumentException when the axis is out of range
     */
    public static Tensor alongAxis(Tensor x, int axis, boolean keepDim) {
        int[] shape = Compute.shape(x);
        int a = Shapes.axis("sum", axis, shape);
        Tensor kept = fresh(x, Shapes.keepDim(shape, a));
        return keepDim ? kept : kept.reshape(Shapes.dropAxis(shape, a));
    }

    @Override
    protected Tensor forward(int[] shape, Tensor[] inputs, Residuals residuals) {
        return Compute.sumTo(inputs[0], shape);
    }

    @Override
    protected Tensor vjp(int[] shape, Values saved, int input, Tensor cotangent) {
        return BroadcastTo.apply(cotangent, saved.inputShape(0));
    }

    @Override
    protected Tensor jvp(int[] shape, Values primals, Tensor[] tangents) {
        return apply(tangents[0], shape);
    }
}
