package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * 2-D average pooling over NCHW images; padded zeros count in the average (PyTorch's
 * {@code count_include_pad=True}), so every window is divided by {@code k·k}. It is linear:
 * the VJP is its transpose ({@link PoolTranspose} without an argmax) and the JVP is the pooling
 * of the tangent.
 */
public final class AvgPool2d extends Primitive<PoolWindow> {

    private static final AvgPool2d AVG_POOL = new AvgPool2d();

    private AvgPool2d() {
        super("avgPool2d");
    }

    /**
     * Average pooling with a square window.
     *
     * @param x       input {@code [N, C, H, W]}
     * @param kernel  window side
     * @param stride  step between windows
     * @param padding rows and columns added on every side
     * @return {@code [N, C, H', W']}
     * @throws IllegalArgumentException see {@link PoolWindow#of}
     */
    public static Tensor apply(Tensor x, int kernel, int stride, int padding) {
        return Ops.apply(AVG_POOL, PoolWindow.of(false, Compute.shape(x), kernel, stride, padding), x);
    }

    /**
     * Average pooling of a tensor of the window's input shape: the adjoint of {@link PoolTranspose}.
     *
     * @param window an average pooling's window
     * @param x      {@link PoolWindow#inputShape()}
     * @return {@link PoolWindow#outputShape()}
     */
    static Tensor apply(PoolWindow window, Tensor x) {
        window.requireShape("the input", Compute.shape(x), window.inputShape());
        return Ops.apply(AVG_POOL, window, x);
    }

    @Override
    protected Tensor forward(PoolWindow window, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        Backend backend = Compute.backend(window.name(), x);
        int[] outShape = window.outputShape();
        Buffer out = Compute.allocateUninitialized(backend, Shapes.size(outShape));
        backend.avgPool(Compute.buffer(x), window.geometry(), window.images(), out);
        return Compute.wrap(backend, out, outShape);
    }

    @Override
    protected Tensor vjp(PoolWindow window, Values saved, int input, Tensor cotangent) {
        return PoolTranspose.apply(window, cotangent, null);
    }

    @Override
    protected Tensor jvp(PoolWindow window, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : apply(window, tangents[0]);
    }
}
