package org.adjoint.internal;

import org.adjoint.Tensor;

/**
 * A tensor a derivative rule saved during the forward pass, with the version of its buffer
 * at that moment; reading it after an in-place change is an error rather than a wrong
 * gradient.
 *
 * <p>The entries a node saves form a short list through {@link #next}, in the order the
 * driver saves them, so that an entry's place says which slot (an input, the output or a
 * residual) it fills: a node then needs neither an array next to its entries nor a tag in
 * each. An entry can be dropped ({@link #drop()}) and filled again with a recomputed value
 * ({@link #refill}): the node that owns it knows how to recompute it.
 */
public final class Saved {

    private Tensor tensor;
    private int version;
    final Saved next;

    private Saved(Tensor tensor, Saved next) {
        this.tensor = tensor;
        this.version = TensorImpl.of(tensor).version().get();
        this.next = next;
    }

    /**
     * Saves a tensor with its current version.
     *
     * @param tensor the tensor
     * @return the record, or {@code null} for a {@code null} tensor
     */
    public static Saved of(Tensor tensor) {
        return tensor == null ? null : new Saved(tensor, null);
    }

    /** Saves {@code tensor} in front of the entries {@code next}. */
    static Saved prepend(Tensor tensor, Saved next) {
        return new Saved(tensor, next);
    }

    /**
     * The tensor as saved, unchecked: for memory accounting only.
     *
     * @return the tensor, or {@code null} while dropped
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
        int now = TensorImpl.of(tensor).version().get();
        if (now != version) {
            throw new IllegalStateException("backward: a tensor of shape " + Shapes.str(tensor.shape())
                    + " that '" + op + "' saved for its gradient was modified in place afterwards (version "
                    + version + " then " + now + "); run backward() before the optimizer step");
        }
        return tensor;
    }

    /**
     * Whether the tensor was dropped and not yet recomputed.
     *
     * @return true while dropped
     */
    public boolean dropped() {
        return tensor == null;
    }

    /** Lets go of the tensor; the owner recomputes it when a rule reads it. */
    public void drop() {
        tensor = null;
    }

    /**
     * Holds a recomputed value, checked from now on against its own buffer's version. The
     * value belongs to this entry from now on: a backward pass that recomputed it (for a
     * deeper node, perhaps, whose pullback comes later) does not hand its buffer back when the
     * node that asked for it is done.
     *
     * @param value the value computed again
     */
    public void refill(Tensor value) {
        Compute.keep(value);
        refillForThisPass(value);
    }

    /**
     * {@link #refill} for an owner that reads the value only during its own pullback, now, and
     * lets go of it right after (a checkpointed segment's input): the backward pass may hand its
     * buffer back once the owner is done, as it does with the owner's other temporaries.
     *
     * @param value the value computed again
     */
    public void refillForThisPass(Tensor value) {
        tensor = value;
        version = TensorImpl.of(value).version().get();
    }
}
