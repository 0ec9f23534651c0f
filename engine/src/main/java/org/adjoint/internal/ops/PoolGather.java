package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * The window gather of max pooling, {@code (x, mask) → y}: the taps of {@code x} that the mask
 * marks, one per window (the sum over each window of {@code x}'s columns times the mask). It
 * is the JVP of {@link MaxPool2d} and the VJP of {@link PoolTranspose}; linear in {@code x},
 * so its VJP is {@link PoolTranspose} and its JVP itself. The mask is a constant.
 */
public final class PoolGather extends Primitive<PoolWindow> {

    private static final PoolGather GATHER = new PoolGather();

    private PoolGather() {
        super("maxPool2d gather");
    }

    /**
     * The masked tap of each window of {@code x}.
     *
     * @param window a max pooling's window
     * @param x      {@link PoolWindow#inputShape()}
     * @param mask   {@link PoolWindow#maskShape()}
     * @return {@link PoolWindow#outputShape()}
     * @throws IllegalArgumentException when a shape does not match the window, or the mask requires a gradient
     */
    static Tensor apply(PoolWindow window, Tensor x, Tensor mask) {
        window.requireShape("the input", Compute.shape(x), window.inputShape());
        requireConstantMask(window, mask);
        return Ops.apply(GATHER, window, x, mask);
    }

    static void requireConstantMask(PoolWindow window, Tensor mask) {
        if (mask == null) {
            throw new IllegalArgumentException(window.name() + ": max pooling's rules need its mask");
        }
        window.requireShape("the mask", Compute.shape(mask), window.maskShape());
        if (mask.requiresGrad()) {
            throw new IllegalArgumentException(window.name() + ": the mask is a constant and must not require a gradient");
        }
    }

    static void requireNoMaskTangent(Primitive<PoolWindow> primitive, PoolWindow window, Tensor[] tangents) {
        if (tangents.length > 1 && tangents[1] != null) {
            throw new IllegalStateException(primitive.name(window) + ": the mask is a constant and has no tangent");
        }
    }

    @Override
    protected Tensor forward(PoolWindow window, Tensor[] inputs, Residuals residuals) {
        Backend backend = Compute.backend(name(window), inputs);
        int[] shape = window.outputShape();
        Buffer out = Compute.allocate(backend, Shapes.size(shape));
        window.gather(backend, Compute.buffer(inputs[0]), Compute.buffer(inputs[1]), out);
        return Compute.wrap(backend, out, shape);
    }

    @Override
    protected boolean savesInput(PoolWindow window, int index, Tensor[] inputs) {
        return index == 1;
    }

    @Override
    protected Tensor vjp(PoolWindow window, Values saved, int input, Tensor cotangent) {
        if (input != 0) {
            throw new IllegalStateException(name(window) + ": the mask is a constant and has no gradient");
        }
        return PoolTranspose.apply(window, cotangent, saved.input(1));
    }

    @Override
    protected Tensor jvp(PoolWindow window, Values primals, Tensor[] tangents) {
        requireNoMaskTangent(this, window, tangents);
        return tangents[0] == null ? null : apply(window, tangents[0], primals.input(1));
    }
}
