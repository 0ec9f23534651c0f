package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.TensorAccess;

/**
 * A copy to another backend, through the host; differentiable like PyTorch's {@code to}: the
 * cotangent travels back to the source backend. Saves nothing but the source backend.
 */
public final class Transfer extends Node {

    private static final TensorAccess ACCESS = TensorAccess.get();

    private final Backend source;

    private Transfer(Backend source) {
        this.source = source;
    }

    /**
     * Copies {@code x} to {@code target}, or returns it when it already lives there.
     *
     * @param x      input
     * @param target the backend of the result
     * @return a tensor on {@code target} with the same shape and values
     */
    public static Tensor apply(Tensor x, Backend target) {
        Backend from = ACCESS.backend(x);
        if (from == target) {
            return x;
        }
        int[] shape = x.shape();
        Tensor out = Compute.wrap(target, target.upload(from.download(ACCESS.buffer(x))), shape);
        if (Forward.any(x)) {
            Forward.attach(out, apply(Forward.tangent(x), target));
        }
        return Graph.recording(x) ? Graph.record(new Transfer(from), out, x) : out;
    }

    @Override
    public String name() {
        return "to";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        return apply(cotangent, source);
    }
}
