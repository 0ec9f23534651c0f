package org.adjoint.internal.ops;

import java.util.Arrays;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Shapes;

/** Sums a tensor down to a shape that broadcasts to it; the VJP broadcasts back. */
public final class SumTo extends Node {

    private final int[] inputShape;

    private SumTo(int[] inputShape) {
        this.inputShape = inputShape;
    }

    /**
     * Sums {@code x} over the axes that broadcasting {@code shape} to {@code x} would expand.
     *
     * @param x     a tensor
     * @param shape the target shape
     * @return {@code x} itself when the shapes are equal, else the reduced tensor
     */
    public static Tensor apply(Tensor x, int[] shape) {
        int[] xShape = Compute.shape(x);
        if (Arrays.equals(xShape, shape)) {
            return x;
        }
        if (!Shapes.broadcastsTo(shape, xShape)) {
            throw new IllegalArgumentException("sum: cannot reduce " + Shapes.str(xShape) + " to " + Shapes.str(shape));
        }
        Tensor out = Compute.sumTo(x, shape);
        if (Forward.any(x)) {
            Forward.attach(out, apply(Forward.tangent(x), shape));
        }
        return Graph.recording(x) ? Graph.record(new SumTo(xShape), out, x) : out;
    }

    @Override
    public String name() {
        return "sum";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        return BroadcastTo.apply(cotangent, inputShape);
    }
}
