package org.adjoint.internal;

import org.adjoint.DType;
import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;

/**
 * What a {@link Tensor} is: storage on a backend, a {@link Layout} that places the elements in
 * it, the storage's element type, a version counter shared by every view of the storage, and
 * the autodiff state (the producing node, the gradient of a leaf, a forward-mode tangent).
 *
 * <p>Each implementation has exactly one public {@code Tensor} in front of it, which holds
 * nothing else: {@link #of(Tensor)} and {@link #tensor()} go from one to the other (through
 * {@link Front}, which {@code Tensor} installs). The engine works with this class; users see
 * only {@code Tensor}, and the module does not export this package.
 *
 * <p>Storage and layout change only through {@link #makeContiguous()}, which gives a view
 * that is about to be written in place storage of its own.
 */
public final class TensorImpl {

    /**
     * The two things only {@code Tensor} can do: make the tensor in front of an implementation,
     * and give back a tensor's implementation. {@code Tensor}'s class initialiser installs the
     * one instance (a plain interface call costs nothing once compiled and little before, where
     * a method handle would slow the short runs that tests and the first steps are).
     */
    public interface Front {
        /**
         * The tensor in front of {@code impl}.
         *
         * @param impl a new implementation
         * @return its tensor
         */
        Tensor create(TensorImpl impl);

        /**
         * A tensor's implementation.
         *
         * @param tensor a tensor
         * @return its implementation
         */
        TensorImpl impl(Tensor tensor);
    }

    private static Front front;

    /**
     * Called once, by {@code Tensor}'s class initialiser.
     *
     * @param installed the front
     * @throws IllegalStateException when called again
     */
    public static void install(Front installed) {
        if (front != null) {
            throw new IllegalStateException("TensorImpl: the tensor front is installed already");
        }
        front = installed;
    }

    private static Front front() {
        Front f = front;
        if (f == null) {
            try {
                Class.forName(Tensor.class.getName(), true, Tensor.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("cannot initialise org.adjoint.Tensor", e);
            }
            f = front;
        }
        return f;
    }

    private final Backend backend;
    private Buffer storage;
    private Layout layout;
    private Version version;
    private final Tensor tensor;
    private boolean requiresGrad;
    private Node producer;
    private Tensor grad;
    private Tensor tangent;

    private TensorImpl(Backend backend, Buffer storage, Layout layout, Version version) {
        this.backend = backend;
        this.storage = storage;
        this.layout = layout;
        this.version = version;
        this.tensor = front().create(this);
    }

    /**
     * A new tensor without history over contiguous storage.
     *
     * @param backend owner of {@code buffer}
     * @param buffer  row-major data
     * @param shape   dimensions (not copied; the caller gives up the array)
     * @return the tensor
     */
    public static Tensor wrap(Backend backend, Buffer buffer, int[] shape) {
        return new TensorImpl(backend, buffer, Layout.contiguous(shape), new Version()).tensor;
    }

    /**
     * The implementation behind a tensor.
     *
     * @param tensor a tensor
     * @return its implementation
     */
    public static TensorImpl of(Tensor tensor) {
        return front.impl(tensor);
    }

    /**
     * The public tensor in front of this implementation.
     *
     * @return the tensor
     */
    public Tensor tensor() {
        return tensor;
    }

    /**
     * A new tensor without history over this one's storage, sharing its version counter.
     *
     * @param viewLayout where the view's elements lie in the storage
     * @return the view
     */
    public Tensor view(Layout viewLayout) {
        return new TensorImpl(backend, storage, viewLayout, version).tensor;
    }

    /**
     * The backend the storage lives on.
     *
     * @return the backend
     */
    public Backend backend() {
        return backend;
    }

    /**
     * The storage, shared with every view of it; read it as a flat array only when
     * {@link Layout#isContiguous()}.
     *
     * @return the buffer
     */
    public Buffer storage() {
        return storage;
    }

    /**
     * Where the elements lie in the storage.
     *
     * @return the layout
     */
    public Layout layout() {
        return layout;
    }

    /**
     * The dimensions, without a copy.
     *
     * @return the shape (do not modify)
     */
    public int[] shape() {
        return layout.shape();
    }

    /**
     * The element type, the storage's.
     *
     * @return the dtype
     */
    public DType dtype() {
        return storage.dtype();
    }

    /**
     * The modification counter of the storage.
     *
     * @return the version, shared by every view
     */
    public Version version() {
        return version;
    }

    /**
     * Whether gradients flow to or through this tensor.
     *
     * @return the flag
     */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * Sets the flag of a leaf.
     *
     * @param requires the new flag
     */
    public void setRequiresGrad(boolean requires) {
        requiresGrad = requires;
    }

    /**
     * The node that produced this tensor.
     *
     * @return the node, or {@code null} for a leaf
     */
    public Node producer() {
        return producer;
    }

    /**
     * Marks this tensor as the output of a recorded node.
     *
     * @param node the node
     */
    public void attach(Node node) {
        producer = node;
        requiresGrad = true;
    }

    /**
     * The accumulated gradient of a leaf.
     *
     * @return the gradient, or {@code null}
     */
    public Tensor grad() {
        return grad;
    }

    /**
     * Replaces a leaf's gradient.
     *
     * @param newGrad the gradient, or {@code null}
     */
    public void setGrad(Tensor newGrad) {
        grad = newGrad;
    }

    /**
     * The forward-mode tangent.
     *
     * @return the tangent, or {@code null} (zero)
     */
    public Tensor tangent() {
        return tangent;
    }

    /**
     * Attaches a forward-mode tangent.
     *
     * @param newTangent a tensor of this shape, or {@code null}
     */
    public void setTangent(Tensor newTangent) {
        tangent = newTangent;
    }

    /**
     * Gives a non-contiguous view storage of its own, holding its elements row-major, before it
     * is written in place (an optimizer step on a parameter that is a transpose, a state dict
     * loaded into one). Its values do not change; the storage it shared is no longer written
     * through it. A contiguous tensor is left as it is.
     */
    public void makeContiguous() {
        if (layout.isContiguous()) {
            return;
        }
        int[] shape = layout.shape();
        Buffer own = backend.allocate(layout.size());
        backend.copyStrided(storage, layout.offset(), layout.strides(), own, 0, shape);
        storage = own;
        layout = Layout.contiguous(shape);
        // Saved references to this tensor compare against the counter's value, so the new
        // counter starts where the shared one is; the other views' counter is no longer bumped.
        version = new Version(version.get());
    }
}
