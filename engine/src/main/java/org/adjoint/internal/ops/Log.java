package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;

/** Natural logarithm; the VJP reads the saved input: {@code d log x = dx / x}. */
public final class Log extends Node {

    private Saved input;

    private Log(Tensor input) {
        this.input = Saved.of(input);
    }

    /**
     * Applies {@code log} element-wise.
     *
     * @param x input
     * @return a new tensor of {@code x}'s shape
     */
    public static Tensor apply(Tensor x) {
        Tensor out = Compute.unary(UnaryOp.LOG, 0f, x);
        if (Forward.any(x)) {
            Tensor t = Forward.tangent(x);
            Tensor y = Forward.primal(out);
            Forward.attach(out, t.div(Forward.primal(x)));
        }
        return Graph.recording(x) ? Graph.record(new Log(x), out, x) : out;
    }

    @Override
    public String name() {
        return "log";
    }

    @Override
    protected Tensor vjp(int index, Tensor cotangent) {
        Tensor input = this.input.get(name());
        return cotangent.div(input);
    }

    @Override
    protected void releaseSaved() {
        input = null;
    }

    @Override
    public java.util.List<Tensor> saved() {
        return Saved.tensors(input);
    }
}
