package org.adjoint.internal.ops;

import java.util.Arrays;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Layout;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * Joins tensors along an existing axis ({@code cat}) or a new one ({@code stack}): one output
 * buffer, each part copied into its place in one strided pass (parts may be views). Linear:
 * the VJP of each part is the matching {@link Narrow} of the cotangent (a view), the JVP joins
 * the tangents.
 */
public final class Cat extends Primitive<Cat.Joint> {

    private static final Cat CAT = new Cat();

    /**
     * Where each part goes.
     *
     * @param axis     the normalised axis of the output
     * @param stack    whether it is a new axis (each part then has length 1 along it)
     * @param starts   the first index of each part along the axis, and the axis' length last
     * @param outShape the output's shape (do not modify)
     */
    public record Joint(int axis, boolean stack, int[] starts, int[] outShape) {
        Narrow.Slice slice(int part) {
            return new Narrow.Slice(axis, starts[part], starts[part + 1] - starts[part], stack, outShape);
        }
    }

    private Cat() {
        super("cat");
    }

    @Override
    public String name(Joint joint) {
        return joint.stack() ? "stack" : "cat";
    }

    /**
     * Concatenates along an existing axis.
     *
     * @param parts tensors of one rank whose shapes agree except along {@code axis}
     * @param axis  the axis, negative counting from the end
     * @return the joined tensor
     * @throws IllegalArgumentException for an empty list, an axis out of range or shapes that differ elsewhere
     */
    public static Tensor cat(List<Tensor> parts, int axis) {
        Tensor[] inputs = inputs("cat", parts);
        int[] first = Compute.shape(inputs[0]);
        int a = Shapes.axis("cat", axis, first);
        int[] starts = new int[inputs.length + 1];
        long total = 0;
        for (int i = 0; i < inputs.length; i++) {
            int[] shape = Compute.shape(inputs[i]);
            boolean same = shape.length == first.length;
            for (int d = 0; same && d < shape.length; d++) {
                same = d == a || shape[d] == first[d];
            }
            if (!same) {
                throw new IllegalArgumentException("cat: part " + i + " has shape " + Shapes.str(shape)
                        + " but part 0 has " + Shapes.str(first) + "; shapes must agree except along axis " + a);
            }
            starts[i] = (int) total;
            total += shape[a];
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cat: the joined axis would have " + total + " entries");
        }
        starts[inputs.length] = (int) total;
        int[] outShape = first.clone();
        outShape[a] = (int) total;
        return Ops.apply(CAT, new Joint(a, false, starts, outShape), inputs);
    }

    /**
     * Stacks along a new axis.
     *
     * @param parts tensors of one shape
     * @param axis  the new axis' place in the result, in {@code [-(rank+1), rank]}
     * @return the stacked tensor, of rank one more
     * @throws IllegalArgumentException for an empty list, an axis out of range or shapes that differ
     */
    public static Tensor stack(List<Tensor> parts, int axis) {
        Tensor[] inputs = inputs("stack", parts);
        int[] first = Compute.shape(inputs[0]);
        for (int i = 1; i < inputs.length; i++) {
            int[] shape = Compute.shape(inputs[i]);
            if (!Arrays.equals(shape, first)) {
                throw new IllegalArgumentException("stack: part " + i + " has shape " + Shapes.str(shape)
                        + " but part 0 has " + Shapes.str(first) + "; all parts must have one shape");
            }
        }
        int rank = first.length + 1;
        if (axis < -rank || axis >= rank) {
            throw new IllegalArgumentException("stack: axis " + axis + " is out of range for stacking parts of shape "
                    + Shapes.str(first) + " (the result has rank " + rank + ")");
        }
        int a = axis < 0 ? axis + rank : axis;
        int[] outShape = new int[rank];
        for (int d = 0, j = 0; d < rank; d++) {
            outShape[d] = d == a ? inputs.length : first[j++];
        }
        int[] starts = new int[inputs.length + 1];
        for (int i = 0; i <= inputs.length; i++) {
            starts[i] = i;
        }
        return Ops.apply(CAT, new Joint(a, true, starts, outShape), inputs);
    }

    private static Tensor[] inputs(String op, List<Tensor> parts) {
        if (parts == null || parts.isEmpty()) {
            throw new IllegalArgumentException(op + ": needs at least one tensor, got an empty list");
        }
        Tensor[] inputs = parts.toArray(new Tensor[0]);
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) {
                throw new IllegalArgumentException(op + ": part " + i + " is null");
            }
        }
        Compute.backend(op, inputs);
        return inputs;
    }

    @Override
    protected Tensor forward(Joint joint, Tensor[] inputs, Residuals residuals) {
        Backend backend = Compute.backend(name(joint), inputs);
        int[] outShape = joint.outShape().clone();
        Buffer out = Compute.allocateUninitialized(backend, Shapes.size(outShape));
        Layout whole = Layout.contiguous(outShape);
        for (int i = 0; i < inputs.length; i++) {
            Narrow.Slice slice = joint.slice(i);
            Layout into = whole.narrowed(slice.axis(), slice.start(), slice.length(), slice.drop());
            Layout from = Compute.layout(inputs[i]);
            backend.copyStrided(Compute.storage(inputs[i]), from.offset(), from.strides(), out, into.offset(),
                    into.strides(), from.shape());
        }
        return Compute.wrap(backend, out, outShape);
    }

    @Override
    protected Tensor vjp(Joint joint, Values saved, int input, Tensor cotangent) {
        return Narrow.apply(cotangent, joint.slice(input));
    }

    @Override
    protected Tensor jvp(Joint joint, Values primals, Tensor[] tangents) {
        Tensor[] parts = new Tensor[tangents.length];
        for (int i = 0; i < tangents.length; i++) {
            Tensor primal = primals.input(i);
            parts[i] = tangents[i] != null ? tangents[i]
                    : Compute.full(Compute.backend(name(joint), primal), 0f, Compute.shape(primal));
        }
        return Ops.apply(CAT, joint, parts);
    }
}
