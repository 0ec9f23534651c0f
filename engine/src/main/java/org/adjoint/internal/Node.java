package org.adjoint.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.Predicate;

import org.adjoint.Tensor;

/**
 * One recorded application of a primitive: where each input's gradient goes, the state its
 * derivative rules saved, and those rules.
 *
 * <p>A node refers to its inputs without keeping more of them alive than its rules save. For
 * each input it holds one edge: the node that produced it (a node is the recipe of its one
 * output, and pins no value), or the leaf tensor itself when the leaf requires a gradient,
 * or, for a constant (an input that receives no gradient), nothing when the rules saved it
 * (the saved entry holds it) and the constant otherwise. A recipe needs all its ingredients:
 * a weak reference would lose the scalars that {@code x.add(2f)} and its kin make, which
 * nothing else holds once the operation returns. What a rule needs from the forward pass it saves explicitly, and
 * {@link #releaseSaved()} drops it after the backward pass has used it. A node that can
 * {@link #recompute()} its output can also {@link #dropSaved() drop} what it saved and
 * recompute it when a rule reads it.
 *
 * <p>A node is used by one thread at a time. While a backward pass runs through it, it is
 * marked with that pass's thread, so that another thread that reaches it (a second backward
 * pass, or a new operation on one of its outputs) fails instead of racing.
 */
public abstract class Node {

    private static final VarHandle REVERSED_BY;

    static {
        try {
            REVERSED_BY = MethodHandles.lookup().findVarHandle(Node.class, "reversedBy", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Object[] edges;
    private int[] outputShape;
    private boolean released;
    private Anomalies.Origin origin;
    private Thread reversedBy; // read and written through REVERSED_BY only

    /**
     * Name for messages, such as {@code matmul}.
     *
     * @return the primitive's name
     */
    public abstract String name();

    /**
     * The cotangent of one input given the cotangent of the output.
     *
     * <p>Rules are written with {@link Tensor} operations, so the same rule runs on every
     * backend and, when the backward pass itself is recorded, can be differentiated again.
     *
     * @param input     index of the input
     * @param cotangent cotangent of the output (never {@code null})
     * @return the input's cotangent, of the input's shape, or {@code null} for zero
     */
    protected abstract Tensor vjp(int input, Tensor cotangent);

    /**
     * The tensors this node saved for its rules (empty once released), so that memory
     * accounting can count exactly what a recorded graph holds.
     *
     * @return the saved tensors
     */
    public java.util.List<Tensor> saved() {
        return java.util.List.of();
    }

    /**
     * The node that produced input {@code input}, or {@code null} (a leaf or no gradient).
     *
     * @param input index of the input
     * @return its producer
     */
    public final Node inputProducer(int input) {
        return edges[input] instanceof Node producer ? producer : null;
    }

    /**
     * Number of inputs.
     *
     * @return the count
     */
    public final int inputs() {
        return edges.length;
    }

    /**
     * The output's value computed again from the inputs' values, recording nothing: each input
     * is read from what the rules saved, or recomputed by its producer, or is a leaf or a
     * constant the node refers to. The same inputs give the same bits, random operations
     * included (their key is one of the attributes).
     *
     * @return a new tensor
     * @throws UnsupportedOperationException when this kind of node cannot re-run its forward computation
     * @throws IllegalStateException when an input is no longer available
     */
    public Tensor recompute() {
        throw new UnsupportedOperationException(name() + ": this node cannot re-run its forward computation");
    }

    /**
     * Whether {@link #recompute()} can run now: its inputs are saved, leaves, constants still
     * referenced, or outputs of nodes that can recompute them.
     *
     * @return true when it can
     */
    public boolean recomputable() {
        return false;
    }

    /**
     * Lets go of every saved tensor that can be recomputed (an intermediate result of another
     * node, this node's output or residuals, but not a leaf or a constant); a rule that reads
     * one later gets it recomputed, bit for bit. The default drops nothing.
     *
     * @return how many saved tensors were dropped
     */
    public int dropSaved() {
        return 0;
    }

    /**
     * Where, in the cotangent of input {@code input}, this node's VJP puts the output's
     * cotangent, when that VJP only places it in zeros (the adjoint of a slice: {@code narrow},
     * {@code select}); {@code null} (the default) for every other rule. The reverse pass then sums the
     * cotangents of several such slices of one tensor in one pass ({@link SliceSum}) instead of
     * padding each with zeros and adding the padded tensors, with the same bits.
     *
     * @param input index of the input
     * @return the range of the input's axis that the output is, or {@code null}
     */
    protected Region cotangentRegion(int input) {
        return null;
    }

    /**
     * One range of one axis of a tensor, the part of it a slice reads.
     *
     * @param axis   the axis
     * @param start  its first index in the range
     * @param length indices in the range
     * @param drop   whether the slice drops the axis (then {@code length} is 1)
     */
    public record Region(int axis, int start, int length, boolean drop) {
    }

    /** Drops saved tensors; the node then refuses another backward pass. */
    protected void releaseSaved() {
    }

    /**
     * Called once, when the node is recorded, with its inputs. A node whose backward pass
     * reads its inputs again (a checkpoint that recomputes from them) keeps their versions
     * here, as a rule keeps those of the tensors it saves.
     *
     * @param inputs the operation's inputs, in the order its {@code vjp} indexes them
     */
    protected void recorded(Tensor... inputs) {
    }

    /**
     * Refuses a backward pass that cannot go through this node, by throwing. It is called for
     * every node a pass will reverse before the pass runs any rule, so a refused pass changes
     * no gradient. Most nodes can be reversed until released and do nothing here.
     *
     * @param createGraph whether the pass records itself, to be differentiated again
     * @throws RuntimeException naming the node, when the pass cannot go through it
     */
    protected void checkReversible(boolean createGraph) {
    }

    /**
     * Refuses a pass that returns gradients rather than adding them into leaves (the
     * transforms of {@code Autodiff}), by throwing, when it could not give the right result;
     * called up front as {@link #checkReversible} is. A node that adds some of its inputs'
     * gradients into leaves itself, out of the pass's sight, refuses when the pass asks for one
     * of those.
     *
     * @param requested whether the pass returns the gradient of a tensor
     * @param stops     whether the pass stops at a node (the producer of a requested tensor)
     * @throws RuntimeException naming the node, when the pass cannot go through it
     */
    protected void checkCaptured(Predicate<Tensor> requested,
                                 Predicate<Node> stops) {
    }

    /**
     * Whether a gradient reaching {@code t} would reach a tensor the pass asks about: {@code t}
     * itself, or a leaf or stopping node upstream of it.
     *
     * @param t         a tensor
     * @param requested whether the pass returns the gradient of a tensor
     * @param stops     whether the pass stops at a node
     * @return whether {@code t}'s gradient matters to the pass
     */
    protected static boolean reachesRequested(Tensor t, Predicate<Tensor> requested,
                                              Predicate<Node> stops) {
        if (requested.test(t)) {
            return true;
        }
        Node producer = TensorImpl.of(t).producer();
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> todo = new ArrayDeque<>();
        if (producer != null) {
            todo.push(producer);
        }
        while (!todo.isEmpty()) {
            Node node = todo.pop();
            if (!seen.add(node)) {
                continue;
            }
            if (stops.test(node)) {
                return true;
            }
            for (int i = 0; i < node.inputs(); i++) {
                Node upstream = node.inputProducer(i);
                if (upstream != null) {
                    todo.push(upstream);
                } else if (node.leaf(i) != null && requested.test(node.leaf(i))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Called once the reverse pass has pulled the cotangent back to every input that needs
     * one, so that state kept between the VJPs of one pass (a shared intermediate) does not
     * outlive the pass: its buffers are recycled right after.
     */
    protected void pullbackDone() {
    }

    /**
     * Called instead of {@link #pullbackDone} when the reverse pass fails while this node's
     * VJPs are being taken, so that state kept between them (cotangents computed for inputs not
     * yet handed out) does not serve a later pass; the pass did not finish, so nothing that
     * marks a finished pass applies.
     */
    protected void pullbackFailed() {
    }

    final void connect(Object[] edges, int[] outputShape) {
        this.edges = edges;
        this.outputShape = outputShape;
    }

    /** An input that receives no gradient and that the rules did not save. */
    record Constant(Tensor value) {
    }

    /** The edge of one input: a producer {@code Node}, a leaf {@code Tensor}, a {@link Constant} or {@code null}. */
    final Object edge(int input) {
        return edges[input];
    }

    /** Refers to an input that receives no gradient and that the rules did not save. */
    final void referToConstant(int input, Tensor constant) {
        edges[input] = new Constant(constant);
    }

    /**
     * The shape of an input that receives a gradient, read from its edge (the leaf, or the
     * output shape its producer recorded), so that a node keeps no shapes of its own.
     *
     * @param input index of the input
     * @return its shape (do not modify)
     * @throws IllegalStateException when no gradient flows to that input
     */
    protected final int[] edgeShape(int input) {
        Object edge = edges[input];
        if (edge instanceof Tensor leaf) {
            return Compute.shape(leaf);
        }
        if (edge instanceof Node producer) {
            return producer.outputShape;
        }
        throw new IllegalStateException(name() + ": input " + input + " receives no gradient, and its shape was not kept");
    }

    final Tensor leaf(int input) {
        return edges[input] instanceof Tensor leaf ? leaf : null;
    }

    final boolean needsGrad(int input) {
        Object edge = edges[input];
        return edge instanceof Node || edge instanceof Tensor;
    }

    final boolean isReleased() {
        return released;
    }

    final void release() {
        released = true;
        releaseSaved();
    }

    final Anomalies.Origin origin() {
        return origin;
    }

    final void origin(Anomalies.Origin where) {
        this.origin = where;
    }

    /**
     * Marks this node as being reversed by {@code thread}, unless a pass already holds it.
     *
     * @return {@code null} when this call marked it, else the thread whose pass holds it
     */
    final Thread claim(Thread thread) {
        return (Thread) REVERSED_BY.compareAndExchange(this, (Thread) null, thread);
    }

    final void unclaim() {
        REVERSED_BY.setRelease(this, (Thread) null);
    }

    final Thread reversedBy() {
        return (Thread) REVERSED_BY.getAcquire(this);
    }

    final Tensor pullback(int input, Tensor cotangent) {
        checkNotReleased();
        return vjp(input, cotangent);
    }

    /**
     * {@link #cotangentRegion} for the reverse pass, which then does not call
     * {@link #pullback}: refused, as that is, once the node is released.
     */
    final Region pullbackRegion(int input) {
        checkNotReleased();
        return cotangentRegion(input);
    }

    private void checkNotReleased() {
        if (released) {
            throw new IllegalStateException("backward: the saved state of '" + name()
                    + "' was freed by an earlier backward(); run the forward pass again, or pass "
                    + "retainGraph = true to the first backward to keep it");
        }
    }
}
