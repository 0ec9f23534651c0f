package org.adjoint.internal;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;

/**
 * The node {@link Ops#apply} records for one application of a primitive: the primitive, its
 * attributes, and the tensors it saved, each read back through the version check.
 *
 * @param <A> the type of the primitive's attributes
 */
final class PrimitiveNode<A> extends Node implements Primitive.Values, Primitive.Residuals {

    /** The slot of the output; inputs fill slots 0, 1, …; residuals fill -2, -3, …. */
    static final int OUTPUT = -1;

    private final Primitive<A> primitive;
    private final A attributes;
    private Saved saved;
    private Tensor lastCotangent;
    private Tensor lastShared;

    PrimitiveNode(Primitive<A> primitive, A attributes) {
        this.primitive = primitive;
        this.attributes = attributes;
    }

    void save(int slot, Tensor tensor) {
        saved = Saved.prepend(tensor, slot, saved);
    }

    @Override
    public void keep(Tensor residual) {
        int kept = 0;
        for (Saved s = saved; s != null; s = s.next) {
            kept += s.slot <= -2 ? 1 : 0;
        }
        save(-2 - kept, residual);
    }

    @Override
    public String name() {
        return primitive.name(attributes);
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        // Kernels may stand in for the differentiable rule only when nothing records this pass.
        boolean fused = !GradMode.isEnabled() && !Forward.active();
        if (cotangent != lastCotangent) {
            lastShared = primitive.shared(attributes, this, cotangent, fused);
            lastCotangent = cotangent;
        }
        return fused ? primitive.fusedVjp(attributes, this, input, lastShared)
                : primitive.vjp(attributes, this, input, lastShared);
    }

    @Override
    public Tensor input(int index) {
        return read(index);
    }

    @Override
    public Tensor output() {
        return read(OUTPUT);
    }

    @Override
    public Tensor residual(int index) {
        return read(-2 - index);
    }

    @Override
    public int[] inputShape(int index) {
        return edgeShape(index);
    }

    private Tensor read(int slot) {
        for (Saved s = saved; s != null; s = s.next) {
            if (s.slot == slot) {
                return s.get(name());
            }
        }
        String what = slot >= 0 ? "input " + slot : slot == OUTPUT ? "output" : "residual " + (-2 - slot);
        throw new IllegalStateException(name() + ": its rule read its " + what + ", which "
                + (isReleased() ? "was freed by an earlier backward()" : "was not saved for the backward pass"));
    }

    @Override
    public List<Tensor> saved() {
        List<Tensor> list = new ArrayList<>(2);
        for (Saved s = saved; s != null; s = s.next) {
            list.add(s.tensor());
        }
        return list;
    }

    @Override
    protected void pullbackDone() {
        // What the VJPs shared belongs to this pass: its buffer is recycled after it.
        lastCotangent = null;
        lastShared = null;
    }

    @Override
    protected void releaseSaved() {
        saved = null;
        pullbackDone();
    }
}
