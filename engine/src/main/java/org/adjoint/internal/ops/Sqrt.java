package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;

/** Square root; the VJP reads the saved output: {@code d sqrt(x) = dx / (2 sqrt(x))}. */
public final class Sqrt extends Node {

    private Saved output;

    private Sqrt(Tensor output) {
        this.output = Saved.of(output);
    }

    /**
     * Applies {@code sqrt} element-wise.
     *
     * @param x input
     * @return a new tensor of {@code x}'s shape
     */
    public static Tensor apply(Tensor x) {
        Tensor out = Compute.unary(UnaryOp.SQRT, 0f, x);
        if (Forward.any(x)) {
            Tensor t = Forward.tangent(x);
            Tensor y = Forward.primal(out);
            Forward.attach(out, t.div(y.mul(2f)));
        }
        return Graph.recording(x) ? Graph.record(new Sqrt(out), out, x) : out;
    }

    @Override
    public String name() {
        return "sqrt";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        Tensor output = this.output.get(name());
        return cotangent.div(output.mul(2f));
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
