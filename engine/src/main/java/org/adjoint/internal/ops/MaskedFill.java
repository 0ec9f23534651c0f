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
 * {@code (x, mask) → mask != 0 ? value : x} with broadcasting, through the backend's
 * {@link org.adjoint.backend.StridedOps#maskedFill} (exactly the value where the mask is set,
 * whatever {@code x} holds there); both operands are read in place, views included. The
 * attribute is the value. Only {@code x} is differentiated: its VJP is the cotangent with
 * zeros where the mask is set (summed back over broadcast axes), its JVP the tangent with
 * zeros there.
 */
public final class MaskedFill extends Primitive<Float> {

    private static final MaskedFill MASKED_FILL = new MaskedFill();

    private MaskedFill() {
        super("maskedFill");
    }

    /**
     * Fills {@code x} with {@code value} where {@code mask} is non-zero.
     *
     * @param x     a tensor
     * @param mask  a tensor whose shape broadcasts with {@code x}'s; not differentiated
     * @param value the fill value
     * @return a tensor of the broadcast shape
     * @throws IllegalArgumentException when the shapes do not broadcast or the mask is null
     */
    public static Tensor apply(Tensor x, Tensor mask, float value) {
        if (mask == null) {
            throw new IllegalArgumentException("maskedFill: the mask must not be null");
        }
        Shapes.broadcast("maskedFill", Compute.shape(x), Compute.shape(mask));
        return Ops.apply(MASKED_FILL, value, x, mask.detach());
    }

    @Override
    protected Tensor forward(Float value, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        Tensor mask = inputs[1];
        Backend backend = Compute.backend("maskedFill", x, mask);
        int[] shape = Shapes.broadcast("maskedFill", Compute.shape(x), Compute.shape(mask));
        Buffer out = Compute.allocate(backend, Shapes.size(shape));
        Layout xl = Compute.layout(x);
        Layout ml = Compute.layout(mask);
        backend.maskedFill(Compute.storage(x), xl.offset(), xl.broadcastStrides(shape), Compute.storage(mask),
                ml.offset(), ml.broadcastStrides(shape), value, out, shape);
        return Compute.wrap(backend, out, shape);
    }

    @Override
    protected boolean savesInput(Float value, int index, Tensor[] inputs) {
        return index == 1;
    }

    @Override
    protected Tensor vjp(Float value, Values saved, int input, Tensor cotangent) {
        if (input != 0) {
            return null;
        }
        Tensor masked = Ops.apply(MASKED_FILL, 0f, cotangent, saved.input(1));
        return SumTo.apply(masked, saved.inputShape(0));
    }

    @Override
    protected Tensor jvp(Float value, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : Ops.apply(MASKED_FILL, 0f, tangents[0], primals.input(1));
    }
}
