package org.adjoint.internal;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;

/**
 * The engine's view of a {@link Tensor}'s internals. {@code Tensor} installs the only
 * implementation when its class initialises, so its public surface stays the user API.
 */
public interface TensorAccess {

    /**
     * Wraps storage as a tensor without history.
     *
     * @param backend owner of {@code buffer}
     * @param buffer  contiguous row-major data
     * @param shape   dimensions (not copied; the caller gives up the array)
     * @return the tensor
     */
    Tensor wrap(Backend backend, Buffer buffer, int[] shape);

    /**
     * A new tensor over another tensor's storage, sharing its version counter.
     *
     * @param base  the tensor whose buffer is shared
     * @param shape dimensions with the same element count (not copied)
     * @return the view, without history
     */
    Tensor view(Tensor base, int[] shape);

    /**
     * The modification counter of a tensor's buffer.
     *
     * @param tensor a tensor
     * @return its version
     */
    Version version(Tensor tensor);

    /**
     * The forward-mode tangent attached to a tensor, or {@code null} (zero).
     *
     * @param tensor a tensor
     * @return its tangent
     */
    Tensor tangent(Tensor tensor);

    /**
     * Attaches a forward-mode tangent.
     *
     * @param tensor  a tensor
     * @param tangent its tangent, of its shape, or {@code null}
     */
    void setTangent(Tensor tensor, Tensor tangent);

    /**
     * Replaces a leaf's gradient.
     *
     * @param leaf a leaf
     * @param grad the new gradient, or {@code null}
     */
    void setGrad(Tensor leaf, Tensor grad);

    /**
     * The storage of a tensor.
     *
     * @param tensor a tensor
     * @return its buffer
     */
    Buffer buffer(Tensor tensor);

    /**
     * The backend a tensor lives on.
     *
     * @param tensor a tensor
     * @return its backend
     */
    Backend backend(Tensor tensor);

    /**
     * The shape without a defensive copy; callers must not modify it.
     *
     * @param tensor a tensor
     * @return its dimensions
     */
    int[] shapeView(Tensor tensor);

    /**
     * The node that produced a tensor, or {@code null} for a leaf.
     *
     * @param tensor a tensor
     * @return its producer
     */
    Node producer(Tensor tensor);

    /**
     * Marks a tensor as the output of a recorded node.
     *
     * @param tensor   the output
     * @param producer the node
     */
    void attach(Tensor tensor, Node producer);

    /** Access installed by {@code Tensor}; see {@link #get()}. */
    final class Holder {
        private static TensorAccess instance;

        private Holder() {
        }

        /**
         * Called once by {@code Tensor}'s static initialiser.
         *
         * @param access the implementation
         */
        public static void install(TensorAccess access) {
            if (instance != null) {
                throw new IllegalStateException("TensorAccess is installed already");
            }
            instance = access;
        }
    }

    /**
     * The implementation, initialising {@code Tensor} first if needed.
     *
     * @return the access
     */
    static TensorAccess get() {
        TensorAccess a = Holder.instance;
        if (a == null) {
            try {
                Class.forName(Tensor.class.getName(), true, Tensor.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("cannot initialise org.adjoint.Tensor", e);
            }
            a = Holder.instance;
        }
        return a;
    }
}
