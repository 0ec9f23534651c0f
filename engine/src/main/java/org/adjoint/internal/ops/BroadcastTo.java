package org.adjoint.internal.ops;

import java.util.Arrays;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Shapes;

/** Repeats a tensor along broadcast axes; the VJP sums them back. */
public final class BroadcastTo extends Node {

    private final int[] inputShape;

    private BroadcastTo(int[] inputShape) {
        this.inputShape = inputShape;
    }

    /**
     * Materialises {@code x} broadcast to {@code shape}.
     *
     * @param x     a tensor
     * @param shape a shape that {@code x}'s shape broadcasts to
     * @return {@code x} itself when the shapes are equal, else a new tensor
     */
    public static Tensor apply(Tensor x, int[] shape) {
        int[] xShape = Compute.shape(x);
        if (Arrays.equals(xShape, shape)) {
            return x;
        }
        if (!Shapes.broadcastsTo(xShape, shape)) {
            throw new IllegalArgumentException("broadcastTo: cannot broadcast " + Shapes.str(xShape)
                    + " to " + Shapes.str(shape));
        }
        Tensor out = Compute.broadcastTo(x, shape);
        if (Forward.any(x)) {
            Forward.attach(out, apply(Forward.tangent(x), shape));
        }
        return Graph.recording(x) ? Graph.record(new BroadcastTo(xShape), out, x) : out;
    }

    @Override
    public String name() {
        return "broadcastTo";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        return SumTo.apply(cotangent, inputShape);
    }
}
