package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.TensorImpl;

/**
 * Reorders the axes: a view of the same storage with the strides permuted (no copy); the
 * attribute is the checked permutation, axis {@code i} of the output being axis
 * {@code axes[i]} of the input. Linear: the VJP applies the inverse permutation, the JVP the
 * same one.
 */
public final class Permute extends Primitive<int[]> {

    private static final Permute PERMUTE = new Permute();

    private Permute() {
        super("permute");
    }

    /**
     * Permutes the axes of {@code x}.
     *
     * @param x    a tensor
     * @param axes one entry per axis, each axis once, negative counting from the end
     * @return the permuted view
     * @throws IllegalArgumentException when {@code axes} is not a permutation of the axes
     */
    public static Tensor apply(Tensor x, int... axes) {
        return Ops.apply(PERMUTE, checked("permute", Compute.shape(x), axes), x);
    }

    /**
     * Swaps two axes of {@code x}.
     *
     * @param x     a tensor
     * @param axis0 one axis, negative counting from the end
     * @param axis1 the other
     * @return the view with the two axes swapped
     * @throws IllegalArgumentException when an axis is out of range
     */
    public static Tensor swap(Tensor x, int axis0, int axis1) {
        int[] shape = Compute.shape(x);
        int a = Shapes.axis("transpose", axis0, shape);
        int b = Shapes.axis("transpose", axis1, shape);
        int[] axes = identity(shape.length);
        axes[a] = b;
        axes[b] = a;
        return Ops.apply(PERMUTE, axes, x);
    }

    private static int[] identity(int rank) {
        int[] axes = new int[rank];
        for (int i = 0; i < rank; i++) {
            axes[i] = i;
        }
        return axes;
    }

    private static int[] checked(String op, int[] shape, int[] axes) {
        int rank = shape.length;
        if (axes.length != rank) {
            throw new IllegalArgumentException(op + ": " + java.util.Arrays.toString(axes) + " has " + axes.length
                    + " axes but the tensor of shape " + Shapes.str(shape) + " has rank " + rank);
        }
        int[] resolved = new int[rank];
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < rank; i++) {
            int a = Shapes.axis(op, axes[i], shape);
            if (seen[a]) {
                throw new IllegalArgumentException(op + ": " + java.util.Arrays.toString(axes)
                        + " is not a permutation of the axes of shape " + Shapes.str(shape) + " (axis " + a
                        + " appears twice)");
            }
            seen[a] = true;
            resolved[i] = a;
        }
        return resolved;
    }

    private static int[] inverse(int[] axes) {
        int[] inv = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            inv[axes[i]] = i;
        }
        return inv;
    }

    @Override
    protected Tensor forward(int[] axes, Tensor[] inputs, Residuals residuals) {
        TensorImpl impl = TensorImpl.of(inputs[0]);
        return impl.view(impl.layout().permuted(axes));
    }

    @Override
    protected Tensor vjp(int[] axes, Values saved, int input, Tensor cotangent) {
        return Ops.apply(PERMUTE, inverse(axes), cotangent);
    }

    @Override
    protected Tensor jvp(int[] axes, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : Ops.apply(PERMUTE, axes, tangents[0]);
    }
}
