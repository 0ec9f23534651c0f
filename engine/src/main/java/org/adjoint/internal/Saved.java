package org.adjoint.internal;

import org.adjoint.Tensor;

/**
 * A tensor a derivative rule saved during the forward pass, with the version of its buffer
 * at that moment; reading it after an in-place change is an error rather than a wrong
 * gradient.
 *
 * @param tensor  the saved tensor
 * @param version its buffer's version when saved
 */
public record Saved(Tensor tensor, int version) {

    /**
     * Saves a tensor with its current version.
     *
     * @param tensor the tensor
     * @return the record, or {@code null} for a {@code null} tensor
     */
    public static Saved of(Tensor tensor) {
        return tensor == null ? null : new Saved(tensor, TensorAccess.get().version(tensor).get());
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

    /**
     * The tensors of some saved records, skipping {@code null}s (released or never saved).
     *
     * @param saved the records
     * @return their tensors
     */
    public static java.util.List<Tensor> tensors(Saved... saved) {
        java.util.List<Tensor> list = new java.util.ArrayList<>(saved.length);
        for (Saved s : saved) {
            if (s != null) {
                list.add(s.tensor());
            }
        }
        return list;
    }
}
