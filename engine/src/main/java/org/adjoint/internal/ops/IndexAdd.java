package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * The adjoint of {@link IndexSelect}: zeros of the indexed input's shape into which this
 * operand is added at the indices along the axis (repeats add up), through the backend's
 * {@link org.adjoint.backend.SelectOps#indexAdd}. Linear: the VJP selects from the cotangent,
 * the JVP adds the tangent in the same way.
 */
final class IndexAdd extends Primitive<IndexSelect.Selection> {

    private static final IndexAdd INDEX_ADD = new IndexAdd();

    private IndexAdd() {
        super("indexSelect backward");
    }

    static Tensor apply(Tensor values, IndexSelect.Selection selection) {
        return Ops.apply(INDEX_ADD, selection, values);
    }

    @Override
    protected Tensor forward(IndexSelect.Selection selection, Tensor[] inputs, Residuals residuals) {
        Tensor values = inputs[0];
        Backend backend = Compute.backend("indexSelect backward", values);
        int[] shape = selection.inputShape().clone();
        Buffer out = Compute.allocate(backend, Shapes.size(shape));
        if (Compute.layout(values).size() > 0) {
            backend.indexAdd(Compute.buffer(values), selection.outer(), selection.inner(), selection.indices(), out,
                    shape[selection.axis()]);
        }
        return Compute.wrap(backend, out, shape);
    }

    @Override
    protected Tensor vjp(IndexSelect.Selection selection, Values saved, int input, Tensor cotangent) {
        return IndexSelect.apply(cotangent, selection);
    }

    @Override
    protected Tensor jvp(IndexSelect.Selection selection, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : apply(tangents[0], selection);
    }
}
