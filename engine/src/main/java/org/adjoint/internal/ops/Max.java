package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * Maximum along one axis (the attribute), kept with length 1. The gradient flows to the first
 * maximal element of each lane, as in PyTorch's {@code max(dim)}: the forward keeps the
 * one-hot mask of those elements as a residual, and the VJP multiplies the broadcast
 * cotangent by it.
 */
public final class Max extends Primitive<Integer> {

    private static final Max MAX = new Max();

    private Max() {
        super("max");
    }

    /**
     * Maximum of {@code x} along {@code axis}.
     *
     * @param x    input
     * @param axis a normalised axis
     * @return a tensor with that axis of length 1
     */
    public static Tensor apply(Tensor x, int axis) {
        int[] shape = Compute.shape(x);
        if (shape[axis] == 0) {
            throw new IllegalArgumentException("max: axis " + axis + " of shape " + Shapes.str(shape)
                    + " is empty, and an empty lane has no maximum");
        }
        return Ops.apply(MAX, axis, x);
    }

    /**
     * Maximum of {@code x} along an axis as the user names it.
     *
     * @param x       input
     * @param axis    the axis, negative counting from the end
     * @param keepDim keep the axis with length 1
     * @return the maxima
     * @throws IllegalArgumentException when the axis is out of range or empty
     */
    public static Tensor alongAxis(Tensor x, int axis, boolean keepDim) {
        int[] shape = Compute.shape(x);
        int a = Shapes.axis("max", axis, shape);
        Tensor kept = apply(x, a);
        return keepDim ? kept : kept.reshape(Shapes.dropAxis(shape, a));
    }

    @Override
    protected Tensor forward(Integer axis, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        int[] shape = Compute.shape(x);
        Backend backend = Compute.backend("max", x);
        int[] outShape = Shapes.keepDim(shape, axis);
        Buffer values = Compute.allocate(backend, Shapes.size(outShape));
        Buffer mask = Compute.allocate(backend, x.size());
        backend.max(Compute.buffer(x), Shapes.outer(shape, axis), shape[axis], Shapes.inner(shape, axis), values, mask);
        residuals.keep(Compute.wrap(backend, mask, shape));
        return Compute.wrap(backend, values, outShape);
    }

    @Override
    protected Tensor vjp(Integer axis, Values saved, int input, Tensor cotangent) {
        return BroadcastTo.apply(cotangent, saved.inputShape(0)).mul(saved.residual(0));
    }

    @Override
    protected Tensor jvp(Integer axis, Values primals, Tensor[] tangents) {
        return SumTo.apply(tangents[0].mul(primals.residual(0)), Compute.shape(primals.output()));
    }
}
