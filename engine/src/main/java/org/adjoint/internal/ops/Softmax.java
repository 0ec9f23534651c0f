package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;

/**
 * Softmax or log-softmax along one axis. Both VJPs read only the saved output {@code y}:
 * softmax {@code dx = y ⊙ (dy − Σ dy ⊙ y)}, log-softmax {@code dx = dy − e^y ⊙ Σ dy}, the
 * sums taken along the axis.
 */
public final class Softmax extends Node {

    private final int axis;
    private final boolean log;
    private Saved output;

    private Softmax(int axis, boolean log, Tensor output) {
        this.axis = axis;
        this.log = log;
        this.output = Saved.of(output);
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
        int[] shape = Compute.shape(x);
        Backend backend = Compute.backend(log ? "logSoftmax" : "softmax", x);
        Buffer out = Compute.allocate(backend, x.size());
        int outer = org.adjoint.internal.Shapes.outer(shape, axis);
        int inner = org.adjoint.internal.Shapes.inner(shape, axis);
        backend.softmax(Compute.buffer(x), outer, shape[axis], inner, log, out);
        Tensor y = Compute.wrap(backend, out, shape);
        if (Forward.any(x)) {
            Tensor t = Forward.tangent(x);
            Tensor p = Forward.primal(y);
            Forward.attach(y, log ? t.sub(p.exp().mul(t).sum(axis, true)) : p.mul(t.sub(t.mul(p).sum(axis, true))));
        }
        return Graph.recording(x) ? Graph.record(new Softmax(axis, log, y), y, x) : y;
    }

    @Override
    public String name() {
        return log ? "logSoftmax" : "softmax";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        Tensor output = this.output.get(name());
        if (log) {
            return cotangent.sub(output.exp().mul(cotangent.sum(axis, true)));
        }
        return output.mul(cotangent.sub(cotangent.mul(output).sum(axis, true)));
    }

    @Override
    protected void releaseSaved() {
        output = null;
    }

    @Override
    public java.util.List<Tensor> saved() {
        return Saved.tensors(output);
    }
}
