package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * The window gather of max pooling, {@code (x, argmax) → y}: the tap of each window of
 * {@code x} that the argmax names ({@link org.adjoint.backend.PoolingOps#maxPoolGather}). It
 * is the JVP of {@link MaxPool2d} and the VJP of {@link PoolTranspose}; linear in {@code x},
 * so its VJP is {@link PoolTranspose} and its JVP itself. The argmax is a constant.
 */
public final class PoolGather extends Primitive<PoolWindow> {

    private static final PoolGather GATHER = new PoolGather();

    private PoolGather() {
        super("maxPool2d gather");
    }

    /**
     * The tap of each window of {@code x} that {@code argmax} names.
     *
     * @param window a max pooling's window
     * @param x      {@link PoolWindow#inputShape()}
     * @param argmax the argmax, {@link PoolWindow#outputShape()}
     * @return {@link PoolWindow#outputShape()}
     * @throws IllegalArgumentException when a shape does not match the window, or the argmax requires a gradient
     */
    static Tensor apply(PoolWindow window, Tensor x, Tensor argmax) {
        window.requireShape("the input", Compute.shape(x), window.inputShape());
        requireConstantArgmax(window, argmax);
        return Ops.apply(GATHER, window, x, argmax);
    }

    static void requireConstantArgmax(PoolWindow window, Tensor argmax) {
        if (argmax == null) {
            throw new IllegalArgumentException(window.name() + ": max pooling's rules need its argmax");
        }
        window.requireShape("the argmax", Compute.shape(argmax), window.outputShape());
        if (argmax.requiresGrad()) {
            throw new IllegalArgumentException(window.name() + ": the argmax is a constant and must not require a gradient");
        }
    }

    static void requireNoArgmaxTangent(Primitive<PoolWindow> primitive, PoolWindow window, Tensor[] tangents) {
        if (tangents.length > 1 && tangents[1] != null) {
            throw new IllegalStateException(primitive.name(window) + ": the argmax is a constant and has no tangent");
        }
    }

    @Override
    protected Tensor forward(PoolWindow window, Tensor[] inputs, Residuals residuals) {
        Backend backend = Compute.backend(name(window), inputs);
        int[] shape = window.outputShape();
        Buffer out = Compute.allocateUninitialized(backend, Shapes.size(shape));
        backend.maxPoolGather(Compute.buffer(inputs[0]), Compute.buffer(inputs[1]), window.geometry(), window.images(),
                out);
        return Compute.wrap(backend, out, shape);
    }

    @Override
    protected boolean savesInput(PoolWindow window, int index, Tensor[] inputs) {
        return index == 1;
    }

    @Override
    protected Tensor vjp(PoolWindow window, Values saved, int input, Tensor cotangent) {
        if (input != 0) {
            throw new IllegalStateException(name(window) + ": the argmax is a constant and has no gradient");
        }
        return PoolTranspose.apply(window, cotangent, saved.input(1));
    }

    @Override
    protected Tensor jvp(PoolWindow window, Values primals, Tensor[] tangents) {
        requireNoArgmaxTangent(this, window, tangents);
        return tangents[0] == null ? null : apply(window, tangents[0], primals.input(1));
    }
}
