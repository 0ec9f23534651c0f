package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;

/** Logistic sigmoid; the VJP reads the saved output: {@code dσ = σ (1 - σ) dx}. */
public final class Sigmoid extends Node {

    private Saved output;

    private Sigmoid(Tensor output) {
        this.output = Saved.of(output);
    }

    /**
     * Applies {@code sigmoid} element-wise.
     *
     * @param x input
     * @return a new tensor of {@code x}'s shape
     */
    public static Tensor apply(Tensor x) {
        Tensor out = Compute.unary(UnaryOp.SIGMOID, 0f, x);
        if (Forward.any(x)) {
            Tensor t = Forward.tangent(x);
            Tensor y = Forward.primal(out);
            Forward.attach(out, t.mul(y.mul(y.neg().add(1f))));
        }
        return Graph.recording(x) ? Graph.record(new Sigmoid(out), out, x) : out;
    }

    @Override
    public String name() {
        return "sigmoid";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        Tensor output = this.output.get(name());
        return cotangent.mul(output.mul(output.neg().add(1f)));
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
