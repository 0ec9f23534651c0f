package org.adjoint.checkpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;
import org.adjoint.internal.Shapes;

/**
 * A node whose backward pass recomputes part of the forward pass and backpropagates through
 * it in one go, for its input and, as a side effect, for the parameters it uses: the first
 * VJP of a pass runs {@link #recompute}; the other inputs (parameters) get {@code null}, their
 * gradients having been accumulated directly. Such a node is reversed once per forward pass
 * (what it kept for the recomputation is consumed, whatever {@code retainGraph} says), cannot
 * record its backward pass (no higher derivatives) and carries no forward-mode tangents; each
 * refusal comes before the pass changes any gradient.
 *
 * <p>The recomputation reads the inputs (and the parameters among them) again, so their
 * versions are kept when the node is recorded and checked before it runs: a parameter that an
 * optimizer step changed in between is an error, not a gradient of different values.
 *
 * <p>Input 0, the state the recomputation starts from, is a saved tensor like any rule's:
 * {@link #dropSaved()} lets go of it when its producer can compute it again, and
 * {@link #input()} recomputes it then, as a primitive's node recomputes what it saved.
 */
abstract class RecomputingNode extends Node {

    private Saved[] inputVersions;
    private Saved input;
    private Tensor inputGrad;
    private boolean reversed;
    private boolean passDone;
    /** The inputs after the first that need a gradient: the recomputation adds theirs into leaves. */
    private final List<Tensor> parameters = new ArrayList<>();

    /**
     * Runs the recomputation and the inner backward pass.
     *
     * @param cotangent cotangent of the node's output
     * @return the cotangent of input 0
     */
    protected abstract Tensor recompute(Tensor cotangent);

    @Override
    protected final void recorded(Tensor... inputs) {
        inputVersions = new Saved[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            inputVersions[i] = Saved.of(inputs[i]);
            if (i > 0 && inputs[i].requiresGrad()) {
                parameters.add(inputs[i]);
            }
        }
        input = inputVersions[0];
    }

    /**
     * Input 0 as saved, recomputed by its producer when it was dropped.
     *
     * @return the input
     */
    protected final Tensor input() {
        if (input.dropped()) {
            // Read during this node's own pullback only, and released with it.
            input.refillForThisPass(inputProducer(0).recompute());
        }
        return input.get(name());
    }

    /**
     * Input 0 as held now, without recomputing it: for memory accounting.
     *
     * @return the input, or {@code null} when dropped or released
     */
    protected final Tensor heldInput() {
        return input == null ? null : input.tensor();
    }

    /**
     * Called when input 0 was dropped, so that a subclass lets go of its own references.
     */
    protected void inputDropped() {
    }

    @Override
    public final int dropSaved() {
        Node producer = inputProducer(0);
        if (input == null || input.dropped() || producer == null || !producer.recomputable()) {
            return 0;
        }
        input.drop();
        inputDropped();
        return 1;
    }

    @Override
    protected final void checkReversible(boolean createGraph) {
        if (reversed && !passDone) {
            throw new IllegalStateException("backward: a " + name() + "'s backward pass failed part-way (the first "
                    + "error says why), after it had consumed what it kept for the recomputation; its parameters may "
                    + "hold part of a gradient. Zero them and run the forward pass again");
        }
        if (passDone) {
            throw new IllegalStateException("backward: a " + name() + " is reversed once per forward pass, even when "
                    + "the first backward passed retainGraph = true: its backward pass recomputes from what it "
                    + "kept and consumes that. Run the forward pass again for each backward pass (a second "
                    + "Autodiff.vjp pullback, and Autodiff.jacobian in reverse mode, are such passes: use "
                    + "JacobianMode.FORWARD), or run it without checkpointing to keep the graph");
        }
        if (createGraph) {
            throw new UnsupportedOperationException("backward: a " + name() + " cannot be differentiated twice: "
                    + "a backward pass that records itself (Autodiff.grad, vjp or jacobian inside another transform) "
                    + "would have to record the recomputation, which checkpointing does not do; run it without "
                    + "checkpointing for higher derivatives");
        }
    }

    @Override
    protected final Tensor vjp(int index, Tensor cotangent) {
        if (!reversed) {
            // Checked up front by the pass already; the grad mode is what a rule sees.
            checkReversible(GradMode.isEnabled());
            // Input 0 first, recomputed if it was dropped; then every version.
            input();
            for (Saved version : inputVersions) {
                version.get(name());
            }
            inputVersions = null;
            reversed = true;
            // A recomputation that throws leaves the node reversed but its pass not done: a
            // retry is refused (checkReversible) instead of returning no gradient.
            inputGrad = recompute(cotangent);
        }
        return index == 0 ? inputGrad : null;
    }

    @Override
    protected final void checkCaptured(Predicate<Tensor> requested, Predicate<Node> stops) {
        for (Tensor p : parameters) {
            // A computed parameter's gradient flows on, out of sight, to what it came from.
            if (reachesRequested(p, requested, stops)) {
                throw new UnsupportedOperationException("Autodiff: a " + name() + " adds its parameters' gradients "
                        + "into their grad() during its own backward pass, out of sight of a transform that returns "
                        + "gradients (Autodiff.grad, vjp, jacobian in reverse mode): for its parameter of shape "
                        + Shapes.str(p.shape()) + (p.isLeaf() ? "" : ", computed from a tensor the transform asks about,")
                        + " it would return zeros. Take gradients with respect to its input only, call the function "
                        + "without checkpointing inside the transform, or use backward()");
            }
        }
    }

    /**
     * Refuses to record a node whose inputs carry forward-mode tangents: the recomputation
     * starts from detached copies, so the tangents would be dropped and {@code Autodiff.hvp}
     * (forward mode over this backward pass) would return a wrong product.
     *
     * @param name   the node's name, for the message
     * @param inputs the inputs about to be recorded
     * @throws UnsupportedOperationException when any input carries a tangent
     */
    static void refuseTangents(String name, Tensor... inputs) {
        if (Forward.any(inputs)) {
            throw new UnsupportedOperationException(name + ": cannot carry forward-mode tangents while recording for "
                    + "a backward pass (Autodiff.hvp is forward mode over reverse mode): its recomputation would drop "
                    + "them and give a wrong result; run it without checkpointing for Hessian-vector products");
        }
    }

    @Override
    protected void pullbackDone() {
        passDone = true;
        inputGrad = null;
    }

    @Override
    protected void releaseSaved() {
        input = null;
        parameters.clear();
    }
}
