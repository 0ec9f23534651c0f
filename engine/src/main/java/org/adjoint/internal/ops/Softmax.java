package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * Softmax or log-softmax along one axis (the attribute). Both VJPs read only the saved output
 * {@code y}: softmax {@code dx = y ⊙ (dy − Σ dy ⊙ y)}, log-softmax {@code dx = dy − e^y ⊙ Σ dy},
 * the sums taken along the axis.
 */
public final class Softmax extends Primitive<Integer> {

    private static final Softmax SOFTMAX = new Softmax(false);
    private static final Softmax LOG_SOFTMAX = new Softmax(true);

    private final boolean log;

    private Softmax(boolean log) {
        super(log ? "logSoftmax" : "softmax");
        this.log = log;
    }

    /**
     * Softmax of {@code x} along {@code axis}.
     *
     * @param x    input
     * @param axis a normalised axis
     * @param log  whether to return log-softmax
     * @return a tensor of {@code x}'s shape
     */
    public static Tensor apply(Tensor x, int axis, boolean log) {
        return Ops.apply(log ? LOG_SOFTMAX : SOFTMAX, axis, x);
    }

    @Override
    protected Tensor forward(Integer axis, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        int[] shape = Compute.shape(x);
        Backend backend = Compute.backend(name(axis), x);
        Buffer out = Compute.allocateUninitialized(backend, x.size());
        backend.softmax(Compute.buffer(x), Shapes.outer(shape, axis), shape[axis], Shapes.inner(shape, axis), log, out);
        return Compute.wrap(backend, out, shape);
    }

    @Override
    protected boolean savesOutput(Integer axis) {
        return true;
    }

    @Override
    protected Tensor vjp(Integer axis, Values saved, int input, Tensor cotangent) {
        Tensor y = saved.output();
        return log ? cotangent.sub(y.exp().mul(cotangent.sum(axis, true))) : softmaxProduct(axis, y, cotangent);
    }

    @Override
    protected Tensor jvp(Integer axis, Values primals, Tensor[] tangents) {
        Tensor y = primals.output();
        Tensor t = tangents[0];
        return log ? t.sub(y.exp().mul(t).sum(axis, true)) : softmaxProduct(axis, y, t);
    }

    /** Softmax's Jacobian {@code diag(y) − y yᵀ} is symmetric: one product serves both modes. */
    private static Tensor softmaxProduct(int axis, Tensor y, Tensor v) {
        return y.mul(v.sub(v.mul(y).sum(axis, true)));
    }
}
