package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;

/** {@code e^x}; the VJP reads the saved output: {@code d e^x = e^x dx}. */
public final class Exp extends Node {

    private Saved output;

    private Exp(Tensor output) {
        this.output = Saved.of(output);
    }

    /**
     * Applies {@code exp} element-wise.
     *
     * @param x input
     * @return a new tensor of {@code x}'s shape
     */
    public static Tensor apply(Tensor x) {
        Tensor out = Compute.unary(UnaryOp.EXP, 0f, x);
        if (Forward.any(x)) {
            Tensor t = Forward.tangent(x);
            Tensor y = Forward.primal(out);
            Forward.attach(out, t.mul(y));
        }
        return Graph.recording(x) ? Graph.record(new Exp(out), out, x) : out;
    }

    @Override
    public String name() {
        return "exp";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        Tensor output = this.output.get(name());
        return cotangent.mul(output);
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
