package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;

/** Hyperbolic tangent; the VJP reads the saved output: {@code d tanh x = (1 - tanh² x) dx}. */
public final class Tanh extends Node {

    private Saved output;

    private Tanh(Tensor output) {
        this.output = Saved.of(output);
    }

    /**
     * Applies {@code tanh} element-wise.
     *
     * @param x input
     * @return a new tensor of {@code x}'s shape
     */
    public static Tensor apply(Tensor x) {
        Tensor out = Compute.unary(UnaryOp.TANH, 0f, x);
        if (Forward.any(x)) {
            Tensor t = Forward.tangent(x);
            Tensor y = Forward.primal(out);
            Forward.attach(out, t.mul(y.mul(y).neg().add(1f)));
        }
        return Graph.recording(x) ? Graph.record(new Tanh(out), out, x) : out;
    }

    @Override
    public String name() {
        return "tanh";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        Tensor output = this.output.get(name());
        return cotangent.mul(output.mul(output).neg().add(1f));
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
