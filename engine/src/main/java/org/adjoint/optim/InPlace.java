package org.adjoint.optim;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.TensorImpl;

/**
 * What the optimizers share: checks of their arguments, zeroing gradients, and element-wise
 * updates of whole buffers through the backend with the few reusable buffers they need, so
 * that a step allocates nothing once its state exists.
 *
 * <p>Every update treats a buffer as one flat row of {@code n} elements: parameters, their
 * gradients and the optimizer state are contiguous and of one size, whatever their shape.
 */
final class InPlace {

    private static final int[] CONTIGUOUS = {1};
    private static final int[] BROADCAST = {0};

    /** Identifies a scratch buffer: its backend and element count. */
    private record ScratchKey(Backend backend, int size) {
    }

    private final Map<Backend, Buffer> scalars = new IdentityHashMap<>();
    /** The bits each backend's scalar holds, or {@link #NOT_WRITTEN}: no float has those bits. */
    private final Map<Backend, long[]> scalarBits = new IdentityHashMap<>();
    private static final long NOT_WRITTEN = 1L << 32;
    private final Map<ScratchKey, Buffer> scratch = new HashMap<>();

    /**
     * Checks that there are parameters and that every one is a distinct leaf that requires a
     * gradient.
     *
     * @param optimizer  name for the error message
     * @param parameters the candidates
     * @return an unmodifiable copy
     */
    static List<Tensor> checkParameters(String optimizer, List<Tensor> parameters) {
        if (parameters.isEmpty()) {
            // As PyTorch: an optimizer of nothing is almost always a model whose parameters were not passed.
            throw new IllegalArgumentException(optimizer + ": the parameter list is empty");
        }
        for (int i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            if (!p.isLeaf() || !p.requiresGrad()) {
                throw new IllegalArgumentException(optimizer + ": parameter " + i + " of shape " + Shapes.str(p.shape())
                        + " must be a leaf that requires a gradient");
            }
        }
        checkDistinct(optimizer, parameters);
        return List.copyOf(parameters);
    }

    /**
     * Checks that no tensor stands twice in {@code parameters}: updating or scaling a shared
     * tensor once per occurrence would silently multiply what is done to it.
     *
     * @param operation  name for the error message
     * @param parameters the tensors
     */
    static void checkDistinct(String operation, List<Tensor> parameters) {
        Map<Tensor, Integer> seen = new IdentityHashMap<>();
        for (int i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            Integer first = seen.putIfAbsent(p, i);
            if (first != null) {
                throw new IllegalArgumentException(operation + ": parameter " + i + " of shape " + Shapes.str(p.shape())
                        + " is the same tensor as parameter " + first + " (pass each parameter once)");
            }
        }
    }

    /**
     * Checks a learning rate given after construction, where 0 is allowed (the end of a
     * schedule may reach it).
     *
     * @param optimizer name for the error message
     * @param rate      the new rate
     */
    static void checkRate(String optimizer, float rate) {
        if (!(rate >= 0f && rate < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(optimizer + ": learning rate must be finite and >= 0, got " + rate);
        }
    }

    /**
     * Checks a weight decay.
     *
     * @param optimizer   name for the error message
     * @param weightDecay the coefficient
     */
    static void checkWeightDecay(String optimizer, float weightDecay) {
        if (!(weightDecay >= 0f && weightDecay < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(optimizer + ": weight decay must be finite and >= 0, got "
                    + weightDecay);
        }
    }

    /**
     * Zeroes every existing gradient in place, keeping its buffer: when all live on one
     * backend, in one {@link Backend#fill(List, float)} (one launch on a device), else one
     * by one.
     *
     * @param parameters the leaves
     * @param buffers    a list to reuse for the gradients' buffers (left empty), so that a
     *                   warm call allocates nothing
     */
    static void zeroGrad(List<Tensor> parameters, List<Buffer> buffers) {
        // Indexed rather than for-each: the iterator is an allocation that escape analysis
        // does not always remove.
        Backend shared = null;
        boolean oneBackend = true;
        buffers.clear();
        for (int i = 0; i < parameters.size(); i++) {
            Tensor grad = parameters.get(i).grad();
            if (grad != null) {
                Backend backend = TensorImpl.of(grad).backend();
                oneBackend &= shared == null || backend == shared;
                shared = backend;
                buffers.add(buffer(grad));
            }
        }
        try {
            if (oneBackend && shared != null) {
                shared.fill(buffers, 0f);
            } else {
                for (int i = 0; i < parameters.size(); i++) {
                    Tensor grad = parameters.get(i).grad();
                    if (grad != null) {
                        TensorImpl.of(grad).backend().fill(buffer(grad), 0f);
                    }
                }
            }
        } finally {
            buffers.clear();
        }
        for (int i = 0; i < parameters.size(); i++) {
            Tensor grad = parameters.get(i).grad();
            if (grad != null) {
                TensorImpl.of(grad).version().increment();
            }
        }
    }

    /**
     * Records that a parameter's values changed, so that a derivative rule that saved it refuses it.
     *
     * @param parameter the updated tensor
     */
    static void changed(Tensor parameter) {
        TensorImpl.of(parameter).version().increment();
    }

    /**
     * The storage of a tensor as one flat row, to read or write in place: a view (a parameter
     * that is a transpose) is first given contiguous storage of its own.
     *
     * @param tensor a tensor
     * @return its buffer
     */
    static Buffer buffer(Tensor tensor) {
        TensorImpl impl = TensorImpl.of(tensor);
        impl.makeContiguous();
        return impl.storage();
    }

    /**
     * The one-axis shape that views a tensor's storage as a flat row.
     *
     * @param tensor a tensor
     * @return {@code [size]}
     */
    static int[] flat(Tensor tensor) {
        return new int[] {Math.toIntExact(tensor.size())};
    }

    /**
     * {@code out = op(x, value)} element-wise over a flat row.
     *
     * @param backend the owner of the buffers
     * @param op      the function
     * @param x       left operand
     * @param value   the scalar right operand
     * @param out     output (may be {@code x})
     * @param flat    {@code [n]}
     */
    void withScalar(Backend backend, BinaryOp op, Buffer x, float value, Buffer out, int[] flat) {
        Buffer scalar = scalars.computeIfAbsent(backend, b -> b.allocate(1));
        // Only this method writes the scalar: a value it holds already (the same factor for every
        // parameter, as clipping's) is not written again, which on a GPU is a launch saved.
        long[] held = scalarBits.computeIfAbsent(backend, b -> new long[] {NOT_WRITTEN});
        long bits = Float.floatToRawIntBits(value);
        if (held[0] != bits) {
            backend.fill(scalar, value);
            held[0] = bits;
        }
        backend.binary(op, x, CONTIGUOUS, scalar, BROADCAST, out, flat);
    }

    /**
     * {@code out = op(lhs, rhs)} element-wise over a flat row.
     *
     * @param backend the owner of the buffers
     * @param op      the function
     * @param lhs     left operand
     * @param rhs     right operand
     * @param out     output (may be either operand)
     * @param flat    {@code [n]}
     */
    static void elementWise(Backend backend, BinaryOp op, Buffer lhs, Buffer rhs, Buffer out, int[] flat) {
        backend.binary(op, lhs, CONTIGUOUS, rhs, CONTIGUOUS, out, flat);
    }

    /**
     * Allocates the one-element buffer that {@link #withScalar} uses on this backend, if it
     * does not exist yet, so that updates can run without allocating.
     *
     * @param backend the owner of the buffer
     */
    void prepareScalar(Backend backend) {
        scalars.computeIfAbsent(backend, b -> b.allocate(1));
        scalarBits.computeIfAbsent(backend, b -> new long[] {NOT_WRITTEN});
    }

    /**
     * Copies a flat row into existing storage.
     *
     * @param backend the owner
     * @param x       the source
     * @param out     the target, of the same size
     * @param flat    {@code [n]}
     */
    static void copyInto(Backend backend, Buffer x, Buffer out, int[] flat) {
        backend.copyStrided(x, CONTIGUOUS, out, flat);
    }

    /**
     * A temporary of {@code flat[0]} elements, shared by every parameter of that size: one
     * update finishes with it before the next begins. The lookup allocates its key, so callers
     * ask once per parameter and keep the buffer.
     *
     * @param backend the owner
     * @param flat    {@code [n]}
     * @return the buffer, with arbitrary contents
     */
    Buffer scratch(Backend backend, int[] flat) {
        return scratch.computeIfAbsent(new ScratchKey(backend, flat[0]), key -> backend.allocate(key.size()));
    }
}
