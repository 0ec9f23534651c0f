package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Layout;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * The adjoint of {@link Narrow}: a tensor of the sliced input's shape, zero except for the
 * slice, which holds this operand; one strided copy into zeros. Linear: the VJP narrows the
 * cotangent, the JVP pads the tangent.
 */
final class Pad extends Primitive<Narrow.Slice> {

    private static final Pad PAD = new Pad();

    private Pad() {
        super("narrow backward");
    }

    static Tensor apply(Tensor part, Narrow.Slice slice) {
        return Ops.apply(PAD, slice, part);
    }

    @Override
    protected Tensor forward(Narrow.Slice slice, Tensor[] inputs, Residuals residuals) {
        Tensor part = inputs[0];
        Backend backend = Compute.backend("narrow backward", part);
        int[] shape = slice.inputShape().clone();
        Buffer out = Compute.allocate(backend, Shapes.size(shape));
        Layout into = Layout.contiguous(shape).narrowed(slice.axis(), slice.start(), slice.length(), slice.drop());
        Layout from = Compute.layout(part);
        backend.copyStrided(Compute.storage(part), from.offset(), from.strides(), out, into.offset(), into.strides(),
                from.shape());
        return Compute.wrap(backend, out, shape);
    }

    @Override
    protected Tensor vjp(Narrow.Slice slice, Values saved, int input, Tensor cotangent) {
        return Narrow.apply(cotangent, slice);
    }

    @Override
    protected Tensor jvp(Narrow.Slice slice, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : apply(tangents[0], slice);
    }
}
