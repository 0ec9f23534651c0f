package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Shapes;

/**
 * Maximum along one axis (kept with length 1). The gradient flows to the first maximal
 * element of each lane, as in PyTorch's {@code max(dim)}; the VJP multiplies the broadcast
 * cotangent by the saved one-hot mask.
 */
public final class Max extends Node {

    private final int[] inputShape;
    private Tensor mask;

    private Max(int[] inputShape, Tensor mask) {
        this.inputShape = inputShape;
        this.mask = mask;
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
        Backend backend = Compute.backend("max", x);
        int[] outShape = Shapes.keepDim(shape, axis);
        Buffer values = Compute.allocate(backend, Shapes.size(outShape));
        Buffer mask = Compute.allocate(backend, x.size());
        backend.max(Compute.buffer(x), Shapes.outer(shape, axis), shape[axis], Shapes.inner(shape, axis), values, mask);
        Tensor out = Compute.wrap(backend, values, outShape);
        if (Forward.any(x)) {
            Forward.attach(out, SumTo.apply(Forward.tangent(x).mul(Compute.wrap(backend, mask, shape)), outShape));
        }
        if (!Graph.recording(x)) {
            return out;
        }
        return Graph.record(new Max(shape, Compute.wrap(backend, mask, shape)), out, x);
    }

    @Override
    public String name() {
        return "max";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        return BroadcastTo.apply(cotangent, inputShape).mul(mask);
    }

    @Override
    protected void releaseSaved() {
        mask = null;
    }

    @Override
    public java.util.List<Tensor> saved() {
        return mask == null ? java.util.List.of() : java.util.List.of(mask);
    }
}
