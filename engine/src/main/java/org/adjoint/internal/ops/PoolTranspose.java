package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * The transpose of a pooling, {@code (g[, argmax]) → dx}: each output element's value spread
 * over its window, to the tap the max pooling's argmax names or by {@code 1/(k·k)} to every tap
 * for average pooling, summed where windows overlap. The VJP of both poolings; linear in
 * {@code g}, so its own VJP is the adjoint gather ({@link PoolGather} with the argmax,
 * {@link AvgPool2d} without) and its JVP is itself applied to the tangent. The argmax is a
 * constant (a max pooling's residual) and gets no derivative.
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
     * @param argmax the argmax, {@link PoolWindow#outputShape()}, for max pooling; {@code null} for average pooling
     * @return {@link PoolWindow#inputShape()}
     * @throws IllegalArgumentException when a shape does not match the window, or the argmax requires a gradient
     */
    static Tensor apply(PoolWindow window, Tensor grad, Tensor argmax) {
        window.requireShape("the cotangent", Compute.shape(grad), window.outputShape());
        if (!window.max()) {
            return Ops.apply(TRANSPOSE, window, grad);
        }
        PoolGather.requireConstantArgmax(window, argmax);
        return Ops.apply(TRANSPOSE, window, grad, argmax);
    }

    @Override
    public String name(PoolWindow window) {
        return window.name() + " transpose";
    }

    @Override
    protected Tensor forward(PoolWindow window, Tensor[] inputs, Residuals residuals) {
        Backend backend = Compute.backend(name(window), inputs);
        int[] shape = window.inputShape();
        // Overwritten whole by the scatter.
        Buffer out = Compute.allocateUninitialized(backend, Shapes.size(shape));
        if (window.max()) {
            backend.maxPoolScatter(Compute.buffer(inputs[0]), Compute.buffer(inputs[1]), window.geometry(),
                    window.images(), out);
        } else {
            backend.avgPoolScatter(Compute.buffer(inputs[0]), window.geometry(), window.images(), out);
        }
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
        return window.max() ? PoolGather.apply(window, cotangent, saved.input(1)) : AvgPool2d.apply(window, cotangent);
    }

    @Override
    protected Tensor jvp(PoolWindow window, Values primals, Tensor[] tangents) {
        PoolGather.requireNoArgmaxTangent(this, window, tangents);
        return tangents[0] == null ? null : apply(window, tangents[0], window.max() ? primals.input(1) : null);
    }
}
