package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Shapes;

/** Swaps the last two axes; its own VJP. */
public final class Transpose extends Node {

    private Transpose() {
    }

    /**
     * Transposes the last two axes of {@code x}.
     *
     * @param x a tensor of rank at least 2
     * @return a contiguous transposed copy
     */
    public static Tensor apply(Tensor x) {
        int[] shape = Compute.shape(x);
        if (shape.length < 2) {
            throw new IllegalArgumentException("transpose: needs rank at least 2, got shape " + Shapes.str(shape));
        }
        Tensor out = Compute.transpose(x);
        if (Forward.any(x)) {
            Forward.attach(out, apply(Forward.tangent(x)));
        }
        return Graph.recording(x) ? Graph.record(new Transpose(), out, x) : out;
    }

    @Override
    public String name() {
        return "transpose";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        return apply(cotangent);
    }
}
