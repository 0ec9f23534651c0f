package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * 2-D max pooling over NCHW images. Padding reads −∞, so it never wins. The forward keeps, as
 * a residual, the argmax: the window position of the first maximal tap of each window, in the
 * output's shape ({@link org.adjoint.backend.PoolingOps#maxPool}); the VJP spreads the
 * cotangent through it ({@link PoolTranspose}), and the JVP picks the tangent at those taps
 * ({@link PoolGather}).
 */
public final class MaxPool2d extends Primitive<PoolWindow> {

    private static final MaxPool2d MAX_POOL = new MaxPool2d();

    private MaxPool2d() {
        super("maxPool2d");
    }

    /**
     * Max pooling with a square window.
     *
     * @param x       input {@code [N, C, H, W]}
     * @param kernel  window side
     * @param stride  step between windows
     * @param padding rows and columns added on every side
     * @return {@code [N, C, H', W']}
     * @throws IllegalArgumentException see {@link PoolWindow#of}
     */
    public static Tensor apply(Tensor x, int kernel, int stride, int padding) {
        return Ops.apply(MAX_POOL, PoolWindow.of(true, Compute.shape(x), kernel, stride, padding), x);
    }

    @Override
    protected Tensor forward(PoolWindow window, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        Backend backend = Compute.backend(window.name(), x);
        int[] outShape = window.outputShape();
        // Both are written whole by the pooling.
        Buffer values = Compute.allocateUninitialized(backend, Shapes.size(outShape));
        if (!residuals.wanted()) {
            // Nothing records (inference): the argmax would be computed and dropped.
            backend.maxPool(Compute.buffer(x), window.geometry(), window.images(), values, null);
            return Compute.wrap(backend, values, outShape);
        }
        Buffer argmax = Compute.allocateUninitialized(backend, Shapes.size(outShape));
        backend.maxPool(Compute.buffer(x), window.geometry(), window.images(), values, argmax);
        residuals.keep(Compute.wrap(backend, argmax, outShape));
        return Compute.wrap(backend, values, outShape);
    }

    @Override
    protected Tensor vjp(PoolWindow window, Values saved, int input, Tensor cotangent) {
        return PoolTranspose.apply(window, cotangent, saved.residual(0));
    }

    @Override
    protected Tensor jvp(PoolWindow window, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : PoolGather.apply(window, tangents[0], primals.residual(0));
    }
}
