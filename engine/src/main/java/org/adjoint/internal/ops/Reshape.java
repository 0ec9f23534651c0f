package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Shapes;

/** A new shape over the same storage (tensors are contiguous, so no copy is needed). */
public final class Reshape extends Node {

    private final int[] inputShape;

    private Reshape(int[] inputShape) {
        this.inputShape = inputShape;
    }

    /**
     * Reshapes {@code x}; one dimension may be -1 and is inferred.
     *
     * @param x     a tensor
     * @param shape the new dimensions
     * @return a tensor sharing {@code x}'s storage
     */
    public static Tensor apply(Tensor x, int... shape) {
        int[] xShape = Compute.shape(x);
        int[] target = resolve(xShape, shape);
        Tensor out = Compute.view(x, target);
        if (Forward.any(x)) {
            Forward.attach(out, Forward.tangent(x).reshape(target));
        }
        return Graph.recording(x) ? Graph.record(new Reshape(xShape), out, x) : out;
    }

    private static int[] resolve(int[] from, int[] shape) {
        int[] target = shape.clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                if (inferred >= 0) {
                    throw new IllegalArgumentException("reshape: cannot reshape " + Shapes.str(from) + " to "
                            + Shapes.str(shape) + " (more than one dimension is -1)");
                }
                inferred = i;
            } else if (target[i] < 0) {
                throw new IllegalArgumentException("reshape: cannot reshape " + Shapes.str(from) + " to "
                        + Shapes.str(shape) + " (negative dimension " + target[i] + ")");
            } else {
                known *= target[i];
            }
        }
        long size = Shapes.size(from);
        if (inferred >= 0) {
            if (known == 0 || size % known != 0) {
                throw new IllegalArgumentException("reshape: cannot reshape " + Shapes.str(from) + " ("
                        + size + " elements) to " + Shapes.str(shape));
            }
            target[inferred] = (int) (size / known);
        } else if (known != size) {
            throw new IllegalArgumentException("reshape: cannot reshape " + Shapes.str(from) + " (" + size
                    + " elements) to " + Shapes.str(shape) + " (" + known + " elements)");
        }
        return target;
    }

    @Override
    public String name() {
        return "reshape";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        return cotangent.reshape(inputShape);
    }
}
