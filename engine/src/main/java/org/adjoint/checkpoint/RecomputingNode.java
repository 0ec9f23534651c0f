package org.adjoint.checkpoint;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;

/**
 * A node whose backward pass recomputes part of the forward pass and backpropagates through
 * it in one go, for its input and, as a side effect, for the parameters it uses: the first
 * VJP of a pass runs {@link #recompute}; the other inputs (parameters) get {@code null}, their
 * gradients having been accumulated directly. Such a node is reversed once per forward pass
 * (what it kept for the recomputation is consumed) and cannot record its backward pass.
 *
 * <p>The recomputation reads the inputs (and the parameters among them) again, so their
 * versions are kept when the node is recorded and checked before it runs: a parameter that an
 * optimizer step changed in between is an error, not a gradient of different values.
 */
abstract class RecomputingNode extends Node {

    private Saved[] inputVersions;
    private Tensor inputGrad;
    private boolean reversed;
    private boolean passDone;

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
        }
    }

    @Override
    protected final Tensor vjp(int index, Tensor cotangent) {
        if (passDone) {
            throw new IllegalStateException("backward: a " + name() + " is reversed once per forward pass (what it kept "
                    + "for recomputing was consumed); run the forward pass again instead of retainGraph");
        }
        if (!reversed) {
            if (GradMode.isEnabled()) {
                throw new UnsupportedOperationException("a " + name() + " cannot be differentiated twice (createGraph); "
                        + "run it without checkpointing for higher derivatives");
            }
            for (Saved input : inputVersions) {
                input.get(name());
            }
            inputVersions = null;
            reversed = true;
            inputGrad = recompute(cotangent);
        }
        return index == 0 ? inputGrad : null;
    }

    @Override
    protected void pullbackDone() {
        passDone = true;
        inputGrad = null;
    }
}
