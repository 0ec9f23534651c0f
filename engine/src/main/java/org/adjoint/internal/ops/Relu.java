package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;

/** ReLU; the VJP masks the cotangent where the saved output is 0 (the mask is a constant, so the rule stays differentiable in the cotangent). */
public final class Relu extends Node {

    private Saved output;

    private Relu(Tensor output) {
        this.output = Saved.of(output);
    }

    /**
     * Applies {@code relu} element-wise.
     *
     * @param x input
     * @return a new tensor of {@code x}'s shape
     */
    public static Tensor apply(Tensor x) {
        Tensor out = Compute.unary(UnaryOp.RELU, 0f, x);
        if (Forward.any(x)) {
            Tensor t = Forward.tangent(x);
            Tensor y = Forward.primal(out);
            Forward.attach(out, t.mul(Compute.unary(UnaryOp.STEP, 0f, y)));
        }
        return Graph.recording(x) ? Graph.record(new Relu(out), out, x) : out;
    }

    @Override
    public String name() {
        return "relu";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        Tensor output = this.output.get(name());
        return cotangent.mul(Compute.unary(UnaryOp.STEP, 0f, output));
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
