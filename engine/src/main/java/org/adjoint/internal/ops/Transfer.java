package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.TensorImpl;

/**
 * A copy to another backend, through the host; differentiable like PyTorch's {@code to}: the
 * cotangent travels back to the source backend. The attributes are both backends.
 */
public final class Transfer extends Primitive<Transfer.Route> {

    private static final Transfer TRANSFER = new Transfer();

    /**
     * Where a copy goes.
     *
     * @param source the input's backend
     * @param target the output's backend
     */
    public record Route(Backend source, Backend target) {
    }

    private Transfer() {
        super("to");
    }

    /**
     * Copies {@code x} to {@code target}, or returns it when it already lives there.
     *
     * @param x      input
     * @param target the backend of the result
     * @return a tensor on {@code target} with the same shape and values
     */
    public static Tensor apply(Tensor x, Backend target) {
        Backend from = TensorImpl.of(x).backend();
        if (from == target) {
            return x;
        }
        return Ops.apply(TRANSFER, new Route(from, target), x);
    }

    @Override
    protected Tensor forward(Route route, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        Backend target = route.target();
        return Compute.wrap(target, target.upload(route.source().download(Compute.buffer(x))), x.shape());
    }

    @Override
    protected Tensor vjp(Route route, Values saved, int input, Tensor cotangent) {
        return apply(cotangent, route.source());
    }

    @Override
    protected Tensor jvp(Route route, Values primals, Tensor[] tangents) {
        return apply(tangents[0], route.target());
    }
}
