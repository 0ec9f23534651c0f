package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;

/** {@code x^p} for a constant exponent; the VJP reads the saved input: {@code p x^(p-1) dx}. */
public final class Pow extends Node {

    private final float exponent;
    private Saved input;

    private Pow(float exponent, Tensor input) {
        this.exponent = exponent;
        this.input = Saved.of(input);
    }

    /**
     * Raises every element to a power.
     *
     * @param x        input
     * @param exponent the power
     * @return {@code x^exponent}
     */
    public static Tensor apply(Tensor x, float exponent) {
        Tensor out = Compute.unary(UnaryOp.POW, exponent, x);
        if (Forward.any(x) && exponent != 0f) {
            Forward.attach(out, Forward.tangent(x).mul(Forward.primal(x).pow(exponent - 1f).mul(exponent)));
        }
        return Graph.recording(x) ? Graph.record(new Pow(exponent, x), out, x) : out;
    }

    @Override
    public String name() {
        return "pow";
    }

    @Override
    protected Tensor vjp(int in, Tensor cotangent) {
        if (exponent == 0f) {
            return null;
        }
        if (exponent == 1f) {
            return cotangent;
        }
        Tensor x = input.get(name());
        Tensor slope = exponent == 2f ? x.mul(2f) : x.pow(exponent - 1f).mul(exponent);
        return cotangent.mul(slope);
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
