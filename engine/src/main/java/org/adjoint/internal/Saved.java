package org.adjoint.internal;

import org.adjoint.Tensor;

/**
 * A tensor a derivative rule saved during the forward pass, with the version of its buffer
 * at that moment; reading it after an in-place change is an error rather than a wrong
 * gradient.
 *
 * <p>The entries a node saves form a short list through {@link #next}, each tagged with the
 * slot it fills (an input, the output or a residual): a node then needs no array next to its
 * entries, so recording costs no more objects than one per saved tensor.
 */
public final class Saved {

    private final Tensor tensor;
    private final int version;
    final int slot;
    final Saved next;

    private Saved(Tensor tensor, int slot, Saved next) {
        this.tensor = tensor;
        this.version = TensorAccess.get().version(tensor).get();
        this.slot = slot;
        this.next = next;
    }

    /**
     * Saves a tensor with its current version.
     *
     * @param tensor the tensor
     * @return the record, or {@code null} for a {@code null} tensor
     */
    public static Saved of(Tensor tensor) {
        return tensor == null ? null : new Saved(tensor, 0, null);
    }

    /** Saves {@code tensor} for {@code slot} in front of the entries {@code next}. */
    static Saved prepend(Tensor tensor, int slot, Saved next) {
        return new Saved(tensor, slot, next);
    }

    /**
     * The tensor as saved, unchecked: for memory accounting only.
     *
     * @return the tensor
     */
    public Tensor tensor() {
        return tensor;
    }

    /**
     * The tensor, checked against in-place modification.
     *
     * @param op name of the rule that reads it
     * @return the tensor
     * @throws IllegalStateException when the buffer was modified since it was saved
     */
    public Tensor get(String op) {
        int now = TensorAccess.get().version(tensor).get();
        if (now != version) {
            throw new IllegalStateException("backward: a tensor of shape " + Shapes.str(tensor.shape())
                    + " that '" + op + "' saved for its gradient was modified in place afterwards (version "
                    + version + " then " + now + "); run backward() before the optimizer step");
        }
        return tensor;
    }
}
