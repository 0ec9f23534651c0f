package org.adjoint.checkpoint;

import java.util.List;

/**
 * An explicit plan for one forward and backward pass over a chain: the actions before the
 * first {@link Action.Kind#REVERSE} run in the forward pass (they end by recording the last
 * layer, whose output is the chain's output); the rest run in the backward pass.
 *
 * @param layers             chain length
 * @param actions            the plan
 * @param forwardCalls       layer forward calls it makes ({@code ADVANCE} and {@code RECORD})
 * @param slots              most states stored at once, the chain input not counted
 * @param predictedPeakBytes most saved bytes held at once under the planner's cost model
 *                           (each slot one layer output, each live tape one layer's tape)
 */
public record Schedule(int layers, List<Action> actions, long forwardCalls, int slots, long predictedPeakBytes) {

    /**
     * Index of the first {@code REVERSE}: where the backward pass starts.
     *
     * @return the index into {@link #actions()}
     */
    public int backwardStart() {
        for (int i = 0; i < actions.size(); i++) {
            if (actions.get(i).kind() == Action.Kind.REVERSE) {
                return i;
            }
        }
        return actions.size();
    }
}
