package org.adjoint.internal;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;

/**
 * Forward computations on tensors with no recording: allocate the result on the operands'
 * backend and call one backend kernel. Primitives build on these.
 *
 * <p>Kernels that take strides (binary operations, strided copies) read a view in place;
 * the rest get {@link #buffer(Tensor)}, which is the storage of a contiguous tensor and one
 * contiguous copy of a view.
 */
public final class Compute {

    private static final ThreadLocal<java.util.List<Allocation>> TRACKED = new ThreadLocal<>();

    /**
     * A buffer and the backend that owns it.
     *
     * @param backend the owner
     * @param buffer  the storage
     */
    public record Allocation(Backend backend, Buffer buffer) {
    }

    private Compute() {
    }

    /**
     * The backend shared by all operands.
     *
     * @param op       operation name for the error message
     * @param operands the tensors
     * @return their backend
     * @throws IllegalArgumentException when they live on different backends
     */
    public static Backend backend(String op, Tensor... operands) {
        Backend b = TensorImpl.of(operands[0]).backend();
        for (int i = 1; i < operands.length; i++) {
            Backend other = TensorImpl.of(operands[i]).backend();
            if (other != b) {
                throw differentBackends(op, b, other);
            }
        }
        return b;
    }

    /**
     * The backend shared by two operands, without the varargs array that
     * {@link #backend(String, Tensor...)} allocates: optimizer steps call this and must not
     * allocate.
     *
     * @param op  operation name for the error message
     * @param lhs one tensor
     * @param rhs the other
     * @return their backend
     * @throws IllegalArgumentException when they live on different backends
     */
    public static Backend backend(String op, Tensor lhs, Tensor rhs) {
        Backend b = TensorImpl.of(lhs).backend();
        Backend other = TensorImpl.of(rhs).backend();
        if (other != b) {
            throw differentBackends(op, b, other);
        }
        return b;
    }

    private static IllegalArgumentException differentBackends(String op, Backend first, Backend second) {
        String where = first.device().equals(second.device())
                ? "two instances of " + first.device() + ", each with its own buffers"
                : first.device() + " and " + second.device();
        return new IllegalArgumentException(op + ": operands live on different backends (" + where + ")");
    }

    /**
     * Allocates zero-filled storage for a result; inside {@link #track(java.util.List)} the buffer is
     * recorded so that the backward pass can hand it back once nothing uses it.
     *
     * @param backend where
     * @param size    element count
     * @return the buffer
     */
    public static Buffer allocate(Backend backend, long size) {
        return tracked(backend, backend.allocate(size));
    }

    /**
     * {@link #allocate(Backend, long)} without the zero fill ({@link Backend#allocateUninitialized}):
     * for a result whose every element the caller writes before anything reads it.
     *
     * @param backend where
     * @param size    element count
     * @return the buffer, contents unspecified
     */
    public static Buffer allocateUninitialized(Backend backend, long size) {
        return tracked(backend, backend.allocateUninitialized(size));
    }

    private static Buffer tracked(Backend backend, Buffer buffer) {
        java.util.List<Allocation> tracked = TRACKED.get();
        if (tracked != null) {
            tracked.add(new Allocation(backend, buffer));
        }
        return buffer;
    }

    /**
     * Starts recording this thread's allocations into {@code into} (the backward pass does,
     * to recycle them), or stops with {@code null}.
     *
     * @param into the list that {@link #allocate} appends to, or {@code null}
     * @return the list that was recording before, to restore afterwards
     */
    public static java.util.List<Allocation> track(java.util.List<Allocation> into) {
        java.util.List<Allocation> previous = TRACKED.get();
        if (into == null) {
            TRACKED.remove();
        } else {
            TRACKED.set(into);
        }
        return previous;
    }

    /**
     * Takes a value's buffer off this thread's recorded allocations, so that the backward pass
     * recording them does not hand it back: the value outlives the node whose pullback computed
     * it (a recomputed value refilled into a saved entry). Nothing happens while nothing records.
     *
     * @param value the value to keep
     */
    public static void keep(Tensor value) {
        java.util.List<Allocation> tracked = TRACKED.get();
        if (tracked != null && !tracked.isEmpty()) {
            Buffer buffer = TensorImpl.of(value).storage();
            tracked.removeIf(allocation -> allocation.buffer() == buffer);
        }
    }

    /**
     * A contiguous copy with its own buffer.
     *
     * @param x a tensor
     * @return the copy
     */
    public static Tensor copy(Tensor x) {
        TensorImpl impl = TensorImpl.of(x);
        return TensorImpl.wrap(impl.backend(), contiguousCopy(impl), impl.shape());
    }

    private static Buffer contiguousCopy(TensorImpl impl) {
        Layout layout = impl.layout();
        Buffer out = allocateUninitialized(impl.backend(), layout.size());
        impl.backend().copyStrided(impl.storage(), layout.offset(), layout.strides(), out, 0, layout.shape());
        return out;
    }

    /**
     * {@code base}'s elements with a new shape (same element count): a view of the storage when
     * strides can express it ({@link Layout#reshaped}: always for a contiguous tensor; for a
     * view when the axes merged were walked with one stride), else a contiguous copy.
     *
     * @param base  the tensor
     * @param shape the new dimensions (not copied)
     * @return the reshaped tensor, without history
     */
    public static Tensor view(Tensor base, int[] shape) {
        TensorImpl impl = TensorImpl.of(base);
        if (impl.layout().isContiguous()) {
            return impl.view(Layout.contiguous(shape));
        }
        Layout reshaped = impl.layout().reshaped(shape);
        if (reshaped != null) {
            return impl.view(reshaped);
        }
        return TensorImpl.wrap(impl.backend(), contiguousCopy(impl), shape);
    }

    /**
     * {@code x} with its last two axes swapped: a view of the same storage.
     *
     * @param x a tensor of rank at least 2
     * @return the transposed view, without history
     */
    public static Tensor transpose(Tensor x) {
        TensorImpl impl = TensorImpl.of(x);
        return impl.view(impl.layout().transposed());
    }

    /**
     * Where a tensor's elements lie.
     *
     * @param t a tensor
     * @return its layout
     */
    public static Layout layout(Tensor t) {
        return TensorImpl.of(t).layout();
    }

    /**
     * Shape of a tensor without a copy.
     *
     * @param t a tensor
     * @return its shape (do not modify)
     */
    public static int[] shape(Tensor t) {
        return TensorImpl.of(t).shape();
    }

    /**
     * A tensor's elements row-major in one buffer, for kernels that read a flat array: the
     * storage itself when the tensor is contiguous, else a new contiguous copy (allocated
     * like a result, so the backward pass recycles it). Never write into it.
     *
     * @param t a tensor
     * @return a buffer of {@code t.size()} elements in row-major order
     */
    public static Buffer buffer(Tensor t) {
        TensorImpl impl = TensorImpl.of(t);
        return impl.layout().isContiguous() ? impl.storage() : contiguousCopy(impl);
    }

    /**
     * How a matrix product reads an operand: the storage, where the first matrix starts, the
     * distance between consecutive matrices of the batch, and whether they are stored
     * transposed.
     *
     * @param buffer      the elements
     * @param offset      the first matrix's first element
     * @param batchStride elements between consecutive matrices (0 repeats one)
     * @param transposed  whether each matrix is stored column-major
     */
    public record Matrices(Buffer buffer, long offset, long batchStride, boolean transposed) {
    }

    /**
     * An operand of a batched matrix product, read in place when its last two axes are packed
     * matrices (row-major, or column-major as a transposed view is) and its batch axes walk
     * them with one stride (a contiguous tensor, a transpose, a narrow along a batch or row
     * axis, a permutation of batch axes that keeps them in order); else one contiguous copy.
     *
     * @param t an operand of rank at least 2
     * @return how to read it
     */
    public static Matrices matrices(Tensor t) {
        TensorImpl impl = TensorImpl.of(t);
        Layout layout = impl.layout();
        int[] shape = layout.shape();
        long packed = (long) shape[shape.length - 2] * shape[shape.length - 1];
        if (layout.isContiguous()) {
            return new Matrices(impl.storage(), 0, packed, false);
        }
        long batchStride = layout.matrixBatchStride();
        if (batchStride >= 0) {
            return new Matrices(impl.storage(), layout.offset(), batchStride, layout.matrixTransposed());
        }
        return new Matrices(contiguousCopy(impl), 0, packed, false);
    }

    /**
     * The storage a tensor's elements lie in, shared by its views: for identity (which buffer a
     * result is, whether it may be recycled), not for reading as a flat array.
     *
     * @param t a tensor
     * @return its storage
     */
    public static Buffer storage(Tensor t) {
        return TensorImpl.of(t).storage();
    }

    /**
     * Wraps a buffer.
     *
     * @param backend its owner
     * @param buffer  the storage
     * @param shape   dimensions (not copied)
     * @return a tensor without history
     */
    public static Tensor wrap(Backend backend, Buffer buffer, int[] shape) {
        return TensorImpl.wrap(backend, buffer, shape);
    }

    /**
     * {@code op(x)} element-wise.
     *
     * @param op        function
     * @param parameter its parameter
     * @param x         input
     * @return a new tensor of {@code x}'s shape
     */
    public static Tensor unary(UnaryOp op, float parameter, Tensor x) {
        TensorImpl impl = TensorImpl.of(x);
        Backend b = impl.backend();
        Buffer in = buffer(x);
        Buffer out = allocateUninitialized(b, impl.layout().size());
        b.unary(op, parameter, in, out);
        return TensorImpl.wrap(b, out, impl.shape());
    }

    /**
     * {@code op(lhs, rhs)} with broadcasting to {@code shape}.
     *
     * @param opName name for errors
     * @param op     function
     * @param lhs    left operand
     * @param rhs    right operand
     * @param shape  the broadcast shape of both
     * @return a new tensor of {@code shape}
     */
    public static Tensor binary(String opName, BinaryOp op, Tensor lhs, Tensor rhs, int[] shape) {
        Backend b = backend(opName, lhs, rhs);
        TensorImpl right = TensorImpl.of(rhs);
        Layout r = right.layout();
        return binary(b, op, TensorImpl.of(lhs), right.storage(), r.offset(), r.broadcastStrides(shape), shape);
    }

    /**
     * {@code op(lhs, rhs)} for a contiguous {@code rhs} buffer of {@code shape} that is not a
     * tensor (a temporary the caller releases): {@code lhs} broadcast to {@code shape}.
     *
     * @param opName name for errors
     * @param op     function
     * @param lhs    left operand
     * @param rhs    right operand, {@code shape}'s elements in order, on {@code lhs}'s backend
     * @param shape  the shape of the result
     * @return a new tensor of {@code shape}
     */
    public static Tensor binary(String opName, BinaryOp op, Tensor lhs, Buffer rhs, int[] shape) {
        return binary(backend(opName, lhs), op, TensorImpl.of(lhs), rhs, 0, Shapes.contiguousStrides(shape), shape);
    }

    /** {@code op(left, right)} into a new result of {@code shape}; views are read in place, from their offset and with their strides. */
    private static Tensor binary(Backend b, BinaryOp op, TensorImpl left, Buffer right, long rightOffset,
                                 int[] rightStrides, int[] shape) {
        Buffer out = allocateUninitialized(b, Shapes.size(shape));
        Layout l = left.layout();
        if (l.offset() == 0 && rightOffset == 0) {
            b.binary(op, left.storage(), l.broadcastStrides(shape), right, rightStrides, out, shape);
        } else {
            b.binary(op, left.storage(), l.offset(), l.broadcastStrides(shape), right, rightOffset, rightStrides, out,
                    shape);
        }
        return TensorImpl.wrap(b, out, shape);
    }

    /**
     * Materialises {@code x} broadcast to {@code shape}.
     *
     * @param x     a tensor whose shape broadcasts to {@code shape}
     * @param shape target shape
     * @return a new contiguous tensor
     */
    public static Tensor broadcastTo(Tensor x, int[] shape) {
        TensorImpl impl = TensorImpl.of(x);
        Backend b = impl.backend();
        Buffer out = allocateUninitialized(b, Shapes.size(shape));
        b.copyStrided(impl.storage(), impl.layout().offset(), impl.layout().broadcastStrides(shape), out, 0, shape);
        return TensorImpl.wrap(b, out, shape.clone());
    }

    /**
     * Sums {@code x} down to {@code shape}, the inverse of broadcasting.
     *
     * @param x     a tensor
     * @param shape a shape that broadcasts to {@code x}'s shape
     * @return a new tensor of {@code shape}
     */
    public static Tensor sumTo(Tensor x, int[] shape) {
        TensorImpl impl = TensorImpl.of(x);
        Backend b = impl.backend();
        int[] xShape = impl.shape();
        Buffer in = buffer(x);
        // sumTo overwrites every output; only sums of nothing (an empty source) rely on the zeros.
        long size = Shapes.size(shape);
        Buffer out = Shapes.size(xShape) == 0 ? allocate(b, size) : allocateUninitialized(b, size);
        b.sumTo(in, xShape, out, Shapes.broadcastStrides(shape, xShape));
        return TensorImpl.wrap(b, out, shape.clone());
    }

    /**
     * A tensor filled with one value on {@code backend}.
     *
     * @param backend where
     * @param value   the value
     * @param shape   dimensions
     * @return the tensor
     */
    public static Tensor full(Backend backend, float value, int[] shape) {
        int n = (int) Shapes.size(shape);
        if (value == 0f) {
            return TensorImpl.wrap(backend, allocate(backend, n), shape.clone());
        }
        // Filled where it lives, not uploaded: no host array as large as the tensor. Untracked, as an upload was.
        Buffer buffer = backend.allocate(n);
        backend.fill(buffer, value);
        return TensorImpl.wrap(backend, buffer, shape.clone());
    }
}
