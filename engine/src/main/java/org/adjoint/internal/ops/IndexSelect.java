package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * The entries at given indices along one axis, repeats allowed, through the backend's
 * {@link org.adjoint.backend.SelectOps#indexSelect}. Linear: the VJP scatter-adds the cotangent
 * into zeros of the input's shape ({@link IndexAdd}; repeated indices add up, which is an
 * embedding's gradient), the JVP selects from the tangent.
 */
public final class IndexSelect extends Primitive<IndexSelect.Selection> {

    private static final IndexSelect INDEX_SELECT = new IndexSelect();


    /**
     * Which entries of which input.
     *
     * @param axis       the normalised axis
     * @param indices    the checked indices (do not modify)
     * @param inputShape the shape of the tensor indexed (do not modify)
     */
    public record Selection(int axis, int[] indices, int[] inputShape) {
        int outer() {
            return Shapes.outer(inputShape, axis);
        }

        int inner() {
            return Shapes.inner(inputShape, axis);
        }

        int[] outputShape() {
            int[] shape = inputShape.clone();
            shape[axis] = indices.length;
            return shape;
        }
    }

    private IndexSelect() {
        super("indexSelect");
    }

    /**
     * Selects entries of {@code x} along one axis.
     *
     * @param x       a tensor
     * @param axis    the axis, negative counting from the end
     * @param indices indices into that axis, each in {@code [0, size)}
     * @return a tensor of {@code x}'s shape with that axis of length {@code indices.length}
     * @throws IllegalArgumentException when the axis or an index is out of range
     */
    public static Tensor apply(Tensor x, int axis, int[] indices) {
        int[] shape = Compute.shape(x);
        int a = Shapes.axis("indexSelect", axis, shape);
        int size = shape[a];
        if (size > Shapes.FLOAT_EXACT_INTEGERS) {
            throw new IllegalArgumentException("indexSelect: axis " + axis + " of shape " + Shapes.str(shape)
                    + " is longer than " + Shapes.FLOAT_EXACT_INTEGERS + ", the most that float32 indices address exactly");
        }
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= size) {
                throw new IllegalArgumentException("indexSelect: index " + indices[i] + " (position " + i
                        + ") is out of range for axis " + axis + " of size " + size + " (shape " + Shapes.str(shape) + ")");
            }
        }
        return apply(x, new Selection(a, indices.clone(), shape));
    }

    static Tensor apply(Tensor x, Selection selection) {
        return Ops.apply(INDEX_SELECT, selection, x);
    }

    @Override
    protected Tensor forward(Selection selection, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        Backend backend = Compute.backend("indexSelect", x);
        int[] outShape = selection.outputShape();
        Buffer out = Compute.allocate(backend, Shapes.size(outShape));
        if (Shapes.size(outShape) > 0) {
            backend.indexSelect(Compute.buffer(x), selection.outer(), selection.inputShape()[selection.axis()],
                    selection.inner(), selection.indices(), out);
        }
        return Compute.wrap(backend, out, outShape);
    }

    @Override
    protected Tensor vjp(Selection selection, Values saved, int input, Tensor cotangent) {
        return IndexAdd.apply(cotangent, selection);
    }

    @Override
    protected Tensor jvp(Selection selection, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : apply(tangents[0], selection);
    }
}
