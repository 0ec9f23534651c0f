package org.adjoint.internal.ops;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Node;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.TensorImpl;

/**
 * The slice {@code [start, start + length)} of one axis: a view of the same storage, its
 * offset moved and the axis shortened (no copy), or with the axis removed when selecting one
 * index ({@code drop}). Linear: the VJP places the cotangent into zeros of the input's shape
 * ({@link Pad}), the JVP narrows the tangent.
 */
public final class Narrow extends Primitive<Narrow.Slice> {

    private static final Narrow NARROW = new Narrow();

    /**
     * Which part of which input.
     *
     * @param axis       the normalised axis
     * @param start      first index kept
     * @param length     number of indices kept
     * @param drop       whether the axis is removed (then {@code length} is 1)
     * @param inputShape the shape of the tensor sliced (do not modify)
     */
    public record Slice(int axis, int start, int length, boolean drop, int[] inputShape) {
        /**
         * The shape of the slice.
         *
         * @return a new array
         */
        int[] outputShape() {
            if (drop) {
                return Shapes.dropAxis(inputShape, axis);
            }
            int[] shape = inputShape.clone();
            shape[axis] = length;
            return shape;
        }
    }

    private Narrow() {
        super("narrow");
    }

    /**
     * Narrows {@code x} along one axis.
     *
     * @param x      a tensor
     * @param axis   the axis, negative counting from the end
     * @param start  first index kept, in {@code [0, size]}
     * @param length number kept, with {@code start + length <= size}
     * @return the view
     * @throws IllegalArgumentException when the axis is out of range or the slice exceeds the axis
     */
    public static Tensor apply(Tensor x, int axis, int start, int length) {
        int[] shape = Compute.shape(x);
        int a = Shapes.axis("narrow", axis, shape);
        if (start < 0 || length < 0 || (long) start + length > shape[a]) {
            throw new IllegalArgumentException("narrow: start " + start + " and length " + length
                    + " do not fit axis " + axis + " of size " + shape[a] + " (shape " + Shapes.str(shape) + ")");
        }
        return Ops.apply(NARROW, new Slice(a, start, length, false, shape), x);
    }

    /**
     * Consecutive pieces of {@code size} along one axis, the last one shorter when {@code size}
     * does not divide the axis; each a view ({@link #apply(Tensor, int, int, int)}).
     *
     * @param x    a tensor
     * @param size the length of each piece, positive
     * @param axis the axis, negative counting from the end
     * @return the pieces in order (none for an axis of length 0)
     * @throws IllegalArgumentException when the axis is out of range or {@code size} is not positive
     */
    public static List<Tensor> split(Tensor x, int size, int axis) {
        int[] shape = Compute.shape(x);
        int a = Shapes.axis("split", axis, shape);
        if (size <= 0) {
            throw new IllegalArgumentException("split: size " + size + " must be positive (shape " + Shapes.str(shape) + ")");
        }
        List<Tensor> pieces = new ArrayList<>();
        // A long start: the last step may pass Integer.MAX_VALUE on a long axis.
        for (long start = 0; start < shape[a]; start += size) {
            pieces.add(apply(x, a, (int) start, (int) Math.min(size, shape[a] - start)));
        }
        return pieces;
    }

    /**
     * The entry {@code index} of one axis, with that axis removed: a view.
     *
     * @param x     a tensor
     * @param axis  a normalised axis
     * @param index an index in {@code [0, size)}, already checked
     * @return the view, of rank one less
     */
    public static Tensor select(Tensor x, int axis, int index) {
        return Ops.apply(NARROW, new Slice(axis, index, 1, true, Compute.shape(x)), x);
    }

    static Tensor apply(Tensor x, Slice slice) {
        return Ops.apply(NARROW, slice, x);
    }

    @Override
    protected Tensor forward(Slice slice, Tensor[] inputs, Residuals residuals) {
        TensorImpl impl = TensorImpl.of(inputs[0]);
        return impl.view(impl.layout().narrowed(slice.axis(), slice.start(), slice.length(), slice.drop()));
    }

    @Override
    protected Tensor vjp(Slice slice, Values saved, int input, Tensor cotangent) {
        return Pad.apply(cotangent, slice);
    }

    @Override
    protected Node.Region cotangentRegion(Slice slice, int input) {
        return new Node.Region(slice.axis(), slice.start(), slice.length(), slice.drop());
    }

    @Override
    protected Tensor jvp(Slice slice, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : apply(tangents[0], slice);
    }
}
