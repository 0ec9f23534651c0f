package org.adjoint.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;

/**
 * The node {@link Ops#apply} records for one application of a primitive, and the recipe of
 * its output: the primitive, its attributes (a random operation's key among them), the edges
 * to its inputs, and the tensors it saved, each read back through the version check.
 *
 * <p>The driver saves residuals first (while the forward computation runs), then inputs in
 * ascending order, then the output; each entry is put in front of the list, so the list reads
 * output, inputs descending, residuals descending, and {@link #savedSlots} (bit {@code i} for
 * input {@code i}, the top bit for the output) says where each one is without a tag per entry.
 *
 * <p>A saved entry can be dropped and is then recomputed when a rule reads it: an input from
 * its producer ({@link Node#recompute()}), the output and residuals by running this node's
 * forward computation again. Recomputation reads inputs from what is saved (recomputing those
 * dropped, recursively), from producers, or from leaves and constants; every one of them is
 * checked against in-place changes since the forward pass (saved ones through their entry, the
 * others against the version noted when the node was connected), so a re-run never computes
 * from values the original did not see.
 *
 * @param <A> the type of the primitive's attributes
 */
final class PrimitiveNode<A> extends Node implements Primitive.Values, Primitive.Residuals {

    /** The slot of the output; inputs fill slots 0, 1, …. */
    static final int OUTPUT = -1;

    private static final int OUTPUT_BIT = 1 << 31;

    private final Primitive<A> primitive;
    private final A attributes;
    private Saved saved;
    private int savedSlots;
    private boolean rerunnable;
    private int[] edgeVersions; // versions of the leaves and constants not saved, by input; null when none
    private Tensor lastCotangent;
    private Tensor lastShared;
    private Tensor[] lastJoint; // fusedVjps' cotangents of lastShared, each taken once; null when none

    PrimitiveNode(Primitive<A> primitive, A attributes) {
        this.primitive = primitive;
        this.attributes = attributes;
    }

    /** Saves input {@code slot} (in ascending order, after the residuals) or the {@link #OUTPUT} (last). */
    void save(int slot, Tensor tensor) {
        if (slot > Primitive.MAX_SAVED_INPUT) {
            throw new IllegalArgumentException(name() + ": input " + slot + " cannot be saved by index (at most "
                    + (Primitive.MAX_SAVED_INPUT + 1) + " inputs can); keep it as a residual");
        }
        savedSlots |= slot == OUTPUT ? OUTPUT_BIT : 1 << slot;
        saved = Saved.prepend(tensor, saved);
    }

    @Override
    public void keep(Tensor residual) {
        saved = Saved.prepend(residual, saved);
    }

    /**
     * Called once everything is saved: refers to every constant input the rules did not save,
     * so that a re-run finds it, and notes whether this node can re-run, which its consumers
     * then read in one step instead of walking the graph.
     */
    void connectInputs(Tensor[] inputs) {
        boolean available = true;
        for (int i = 0; i < inputs.length; i++) {
            Object edge = edge(i);
            if (savesInput(i)) {
                continue;
            }
            if (edge instanceof Node producer) {
                available &= producer.recomputable();
                continue;
            }
            if (edge == null) {
                referToConstant(i, inputs[i]);
            }
            if (edgeVersions == null) {
                edgeVersions = new int[inputs.length];
            }
            edgeVersions[i] = TensorImpl.of(inputs[i]).version().get();
        }
        rerunnable = available;
    }

    @Override
    public String name() {
        return primitive.name(attributes);
    }

    @Override
    protected Region cotangentRegion(int input) {
        return primitive.cotangentRegion(attributes, input);
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        // Kernels may stand in for the differentiable rule only when nothing records this pass.
        boolean fused = !GradMode.isEnabled() && !Forward.active();
        if (cotangent != lastCotangent) {
            lastShared = primitive.shared(attributes, this, cotangent, fused);
            lastCotangent = cotangent;
            lastJoint = fused ? primitive.fusedVjps(attributes, this, lastShared) : null;
        }
        if (!fused) {
            return primitive.vjp(attributes, this, input, lastShared);
        }
        if (lastJoint != null && input < lastJoint.length && lastJoint[input] != null) {
            Tensor joint = lastJoint[input];
            // Handed over once: the pass recycles what it no longer refers to.
            lastJoint[input] = null;
            return joint;
        }
        return primitive.fusedVjp(attributes, this, input, lastShared);
    }

    @Override
    public boolean receivesCotangent(int index) {
        return needsGrad(index) && primitive.cotangentRegion(attributes, index) == null;
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

    private boolean savesInput(int index) {
        return index <= Primitive.MAX_SAVED_INPUT && (savedSlots & 1 << index) != 0;
    }

    /** The entry of a slot (inputs 0, 1, …, {@link #OUTPUT}, residuals -2, -3, …), or {@code null}. */
    private Saved entry(int slot) {
        int outputs = savedSlots < 0 ? 1 : 0;
        int inputs = Integer.bitCount(savedSlots & ~OUTPUT_BIT);
        int position;
        if (slot == OUTPUT) {
            if (outputs == 0) {
                return null;
            }
            position = 0;
        } else if (slot >= 0) {
            if (!savesInput(slot)) {
                return null;
            }
            position = outputs + Integer.bitCount((savedSlots & ~OUTPUT_BIT) >>> slot >>> 1);
        } else {
            int residuals = -outputs - inputs;
            for (Saved s = saved; s != null; s = s.next) {
                residuals++;
            }
            int index = -2 - slot;
            if (index >= residuals) {
                return null;
            }
            position = outputs + inputs + residuals - 1 - index;
        }
        Saved s = saved;
        for (int i = 0; i < position && s != null; i++) {
            s = s.next;
        }
        return s;
    }

    private Tensor read(int slot) {
        Saved entry = entry(slot);
        if (entry == null) {
            String what = slot >= 0 ? "input " + slot : slot == OUTPUT ? "output" : "residual " + (-2 - slot);
            throw new IllegalStateException(name() + ": its rule read its " + what + ", which "
                    + (isReleased() ? "was freed by an earlier backward()" : "was not saved for the backward pass"));
        }
        if (entry.dropped()) {
            entry.refill(rematerialize(slot));
        }
        return entry.get(name());
    }

    /** Computes a dropped slot again: an input from its producer, the output and residuals by re-running. */
    private Tensor rematerialize(int slot) {
        if (slot >= 0) {
            return ((Node) edge(slot)).recompute();
        }
        List<Tensor> residuals = new ArrayList<>(2);
        Tensor output = rerun(residuals::add);
        return slot == OUTPUT ? output : residuals.get(-2 - slot);
    }

    @Override
    public Tensor recompute() {
        return rerun(Ops.DISCARD);
    }

    /**
     * Runs the forward computation again. The producers it needs (of inputs not saved, or
     * saved and dropped) run first, deepest first, each once however many paths reach it, and
     * without recursion, so that a long chain cannot overflow the stack.
     */
    private Tensor rerun(Primitive.Residuals residuals) {
        checkNotReleased();
        Map<Node, Tensor> values = new IdentityHashMap<>();
        ArrayDeque<PrimitiveNode<?>> pending = new ArrayDeque<>();
        pending.push(this);
        while (!pending.isEmpty()) {
            PrimitiveNode<?> node = pending.peek();
            if (values.containsKey(node)) {
                pending.pop();
                continue;
            }
            boolean ready = true;
            for (int i = 0; i < node.inputs(); i++) {
                Node producer = node.neededProducer(i);
                if (producer != null && !values.containsKey(producer)) {
                    if (!(producer instanceof PrimitiveNode<?> primitiveNode)) {
                        throw new IllegalStateException(node.name() + ": cannot re-run its forward computation: input "
                                + i + " comes from '" + producer.name() + "', which cannot compute it again");
                    }
                    pending.push(primitiveNode);
                    ready = false;
                }
            }
            if (ready) {
                pending.pop();
                if (node != this) {
                    values.put(node, node.forward(values, Ops.DISCARD));
                }
            }
        }
        return forward(values, residuals);
    }

    /** The producer whose output a re-run must compute first for input {@code index}, or {@code null}. */
    private Node neededProducer(int index) {
        Object edge = edge(index);
        if (!(edge instanceof Node producer)) {
            return null;
        }
        if (savesInput(index)) {
            Saved entry = entry(index);
            return entry != null && entry.dropped() ? producer : null;
        }
        return producer;
    }

    private void checkNotReleased() {
        if (isReleased()) {
            throw new IllegalStateException(name() + ": cannot re-run its forward computation: what it saved was "
                    + "freed by an earlier backward()");
        }
    }

    private Tensor forward(Map<Node, Tensor> computed, Primitive.Residuals residuals) {
        checkNotReleased();
        Tensor[] inputs = new Tensor[inputs()];
        for (int i = 0; i < inputs.length; i++) {
            Object edge = edge(i);
            if (savesInput(i)) {
                Saved entry = entry(i);
                if (entry != null && entry.dropped()) {
                    entry.refill(computed.get((Node) edge));
                }
                inputs[i] = read(i);
            } else if (edge instanceof Node producer) {
                inputs[i] = computed.get(producer);
            } else if (edge instanceof Tensor leaf) {
                inputs[i] = unchanged(i, leaf);
            } else if (edge instanceof Constant constant) {
                inputs[i] = unchanged(i, constant.value());
            } else {
                throw new IllegalStateException(name() + ": cannot re-run its forward computation: input " + i
                        + " was neither saved nor referred to");
            }
        }
        try (var _ = GradMode.noGrad()) {
            return primitive.forward(attributes, inputs, residuals);
        }
    }

    /** An input the node refers to without saving it, refused when it was changed in place since. */
    private Tensor unchanged(int input, Tensor value) {
        int then = edgeVersions[input];
        int now = TensorImpl.of(value).version().get();
        if (now != then) {
            throw new IllegalStateException(name() + ": cannot re-run its forward computation: input " + input
                    + " of shape " + Shapes.str(value.shape()) + " was modified in place after the forward pass (version "
                    + then + " then " + now + ")");
        }
        return value;
    }

    @Override
    public boolean recomputable() {
        return rerunnable && !isReleased();
    }

    @Override
    public int dropSaved() {
        boolean rerunnable = recomputable();
        int dropped = 0;
        int inputs = Integer.bitCount(savedSlots & ~OUTPUT_BIT);
        int position = 0;
        int nextInput = inputs();
        for (Saved s = saved; s != null; s = s.next, position++) {
            boolean droppable;
            if (position == 0 && savedSlots < 0) {
                droppable = rerunnable;
            } else if (position < (savedSlots < 0 ? 1 : 0) + inputs) {
                // Inputs come in descending order: find the next saved one below the last.
                do {
                    nextInput--;
                } while (!savesInput(nextInput));
                droppable = edge(nextInput) instanceof Node producer && producer.recomputable();
            } else {
                droppable = rerunnable;
            }
            // A value computed again would come without the tangent a forward-over-reverse pass attached.
            if (droppable && !s.dropped() && TensorImpl.of(s.tensor()).tangent() == null) {
                s.drop();
                dropped++;
            }
        }
        return dropped;
    }

    @Override
    public List<Tensor> saved() {
        List<Tensor> list = new ArrayList<>(2);
        for (Saved s = saved; s != null; s = s.next) {
            if (!s.dropped()) {
                list.add(s.tensor());
            }
        }
        return list;
    }

    @Override
    protected void pullbackDone() {
        // What the VJPs shared belongs to this pass: its buffer is recycled after it.
        lastCotangent = null;
        lastShared = null;
        lastJoint = null;
    }

    @Override
    protected void pullbackFailed() {
        pullbackDone();
    }

    @Override
    protected void releaseSaved() {
        saved = null;
        savedSlots = 0;
        pullbackDone();
    }
}
