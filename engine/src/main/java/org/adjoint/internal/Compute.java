package org.adjoint.internal;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;

/**
 * Forward computations on tensors with no recording: allocate the result on the operands'
 * backend and call one backend kernel. Primitives build on these.
 */
public final class Compute {

    private static final TensorAccess ACCESS = TensorAccess.get();
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
        Backend b = ACCESS.backend(operands[0]);
        for (int i = 1; i < operands.length; i++) {
            Backend other = ACCESS.backend(operands[i]);
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
        Backend b = ACCESS.backend(lhs);
        Backend other = ACCESS.backend(rhs);
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
        Buffer buffer = backend.allocate(size);
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
     * A contiguous copy with its own buffer.
     *
     * @param x a tensor
     * @return the copy
     */
    public static Tensor copy(Tensor x) {
        Backend b = ACCESS.backend(x);
        int[] shape = ACCESS.shapeView(x);
        Buffer out = allocate(b, x.size());
        b.copyStrided(ACCESS.buffer(x), Shapes.contiguousStrides(shape), out, shape);
        return ACCESS.wrap(b, out, shape);
    }

    /**
     * A tensor of a new shape over {@code base}'s buffer (same element count).
     *
     * @param base  the tensor
     * @param shape the new dimensions
     * @return the view
     */
    public static Tensor view(Tensor base, int[] shape) {
        return ACCESS.view(base, shape);
    }

    /**
     * Shape of a tensor without a copy.
     *
     * @param t a tensor
     * @return its shape (do not modify)
     */
    public static int[] shape(Tensor t) {
        return ACCESS.shapeView(t);
    }

    /**
     * Buffer of a tensor.
     *
     * @param t a tensor
     * @return its storage
     */
    public static Buffer buffer(Tensor t) {
        return ACCESS.buffer(t);
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
        return ACCESS.wrap(backend, buffer, shape);
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
        Backend b = ACCESS.backend(x);
        Buffer out = allocate(b, x.size());
        b.unary(op, parameter, ACCESS.buffer(x), out);
        return ACCESS.wrap(b, out, ACCESS.shapeView(x));
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
        Buffer out = allocate(b, Shapes.size(shape));
        b.binary(op, ACCESS.buffer(lhs), Shapes.broadcastStrides(ACCESS.shapeView(lhs), shape),
                ACCESS.buffer(rhs), Shapes.broadcastStrides(ACCESS.shapeView(rhs), shape), out, shape);
        return ACCESS.wrap(b, out, shape);
    }

    /**
     * Materialises {@code x} broadcast to {@code shape}.
     *
     * @param x     a tensor whose shape broadcasts to {@code shape}
     * @param shape target shape
     * @return a new contiguous tensor
     */
    public static Tensor broadcastTo(Tensor x, int[] shape) {
        Backend b = ACCESS.backend(x);
        Buffer out = allocate(b, Shapes.size(shape));
        b.copyStrided(ACCESS.buffer(x), Shapes.broadcastStrides(ACCESS.shapeView(x), shape), out, shape);
        return ACCESS.wrap(b, out, shape.clone());
    }

    /**
     * Sums {@code x} down to {@code shape}, the inverse of broadcasting.
     *
     * @param x     a tensor
     * @param shape a shape that broadcasts to {@code x}'s shape
     * @return a new tensor of {@code shape}
     */
    public static Tensor sumTo(Tensor x, int[] shape) {
        Backend b = ACCESS.backend(x);
        int[] xShape = ACCESS.shapeView(x);
        Buffer out = allocate(b, Shapes.size(shape));
        b.sumTo(ACCESS.buffer(x), xShape, out, Shapes.broadcastStrides(shape, xShape));
        return ACCESS.wrap(b, out, shape.clone());
    }

    /**
     * Swaps the last two axes into a new contiguous tensor.
     *
     * @param x a tensor of rank at least 2
     * @return the transposed copy
     */
    public static Tensor transpose(Tensor x) {
        Backend b = ACCESS.backend(x);
        int[] shape = ACCESS.shapeView(x);
        int rank = shape.length;
        int[] strides = Shapes.contiguousStrides(shape);
        int[] outShape = shape.clone();
        outShape[rank - 2] = shape[rank - 1];
        outShape[rank - 1] = shape[rank - 2];
        int[] srcStrides = strides.clone();
        srcStrides[rank - 2] = strides[rank - 1];
        srcStrides[rank - 1] = strides[rank - 2];
        Buffer out = allocate(b, x.size());
        b.copyStrided(ACCESS.buffer(x), srcStrides, out, outShape);
        return ACCESS.wrap(b, out, outShape);
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
            return ACCESS.wrap(backend, allocate(backend, n), shape.clone());
        }
        // Filled where it lives, not uploaded: no host array as large as the tensor. Untracked, as an upload was.
        Buffer buffer = backend.allocate(n);
        backend.fill(buffer, value);
        return ACCESS.wrap(backend, buffer, shape.clone());
    }
}
