package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * The transpose of a pooling, {@code (g[, mask]) → dx}: each output element's value spread
 * over its window, by the max mask or by {@code 1/(k·k)} for average pooling, summed where
 * windows overlap. The VJP of both poolings; linear in {@code g}, so its own VJP is the
 * adjoint gather ({@link PoolGather} with the mask, {@link AvgPool2d} without) and its JVP is
 * itself applied to the tangent. The mask is a constant (a max pooling's residual) and gets no
 * derivative.
 */
public final class PoolTranspose extends Primitive<PoolWindow> {

    private static final PoolTranspose TRANSPOSE = new PoolTranspose();

    private PoolTranspose() {
        super("pool transpose");
    }

    /**
     * Spreads {@code grad} over the windows.
     *
     * @param window the pooling's window
     * @param grad   {@link PoolWindow#outputShape()}
     * @param mask   {@link PoolWindow#maskShape()} for max pooling, {@code null} for average pooling
     * @return {@link PoolWindow#inputShape()}
     * @throws IllegalArgumentException when a shape does not match the window, or the mask requires a gradient
     */
    static Tensor apply(PoolWindow window, Tensor grad, Tensor mask) {
        window.requireShape("the cotangent", Compute.shape(grad), window.outputShape());
        if (!window.max()) {
            return Ops.apply(TRANSPOSE, window, grad);
        }
        PoolGather.requireConstantMask(window, mask);
        return Ops.apply(TRANSPOSE, window, grad, mask);
    }

    @Override
    public String name(PoolWindow window) {
        return window.name() + " transpose";
    }

    @Override
    protected Tensor forward(PoolWindow window, Tensor[] inputs, Residuals residuals) {
        Backend backend = Compute.backend(name(window), inputs);
        int[] shape = window.inputShape();
        Buffer out = Compute.allocate(backend, Shapes.size(shape));
        window.scatter(backend, Compute.buffer(inputs[0]), window.max() ? Compute.buffer(inputs[1]) : null, out);
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
        return window.max() ? PoolGather.apply(window, cotangent, saved.input(1)) : AvgPool2d.apply(window, cotangent);
    }

    @Override
    protected Tensor jvp(PoolWindow window, Values primals, Tensor[] tangents) {
        PoolGather.requireNoMaskTangent(this, window, tangents);
        return tangents[0] == null ? null : apply(window, tangents[0], window.max() ? primals.input(1) : null);
    }
}
