package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * A new shape over the same storage when strides can express it (always for a contiguous
 * tensor, see {@link Compute#view}), else over a contiguous copy; the attribute is the
 * resolved shape.
 */
public final class Reshape extends Primitive<int[]> {

    private static final Reshape RESHAPE = new Reshape();

    private Reshape() {
        super("reshape");
    }

    /**
     * Reshapes {@code x}; one dimension may be -1 and is inferred.
     *
     * @param x     a tensor
     * @param shape the new dimensions
     * @return a tensor sharing {@code x}'s storage
     */
    public static Tensor apply(Tensor x, int... shape) {
        return Ops.apply(RESHAPE, resolve(Compute.shape(x), shape), x);
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
            } else if (known <= Integer.MAX_VALUE || target[i] == 0) {
                // Past what a buffer holds the count stops growing (it can no longer match), so
                // that a long product cannot wrap round to the input's count.
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
    protected Tensor forward(int[] shape, Tensor[] inputs, Residuals residuals) {
        return Compute.view(inputs[0], shape);
    }

    @Override
    protected Tensor vjp(int[] shape, Values saved, int input, Tensor cotangent) {
        return cotangent.reshape(saved.inputShape(0));
    }

    @Override
    protected Tensor jvp(int[] shape, Values primals, Tensor[] tangents) {
        return tangents[0].reshape(shape);
    }
}
