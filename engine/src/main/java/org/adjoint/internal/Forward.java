package org.adjoint.internal;

import org.adjoint.Tensor;

/**
 * Forward-mode differentiation: while a {@code jvp} runs, tensors may carry a tangent, and
 * every primitive that sees a tangent on an input computes its output's tangent with its JVP
 * rule, in the same pass, recording nothing. Rules read primal values through
 * {@link #primal(Tensor)} (no tangent, no history), so a rule's own arithmetic is not
 * differentiated; tangents themselves carry no tangents.
 */
public final class Forward {

    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private Forward() {
    }

    /**
     * Whether a forward-mode pass is running on this thread.
     *
     * @return true inside {@link #enter()}
     */
    public static boolean active() {
        return DEPTH.get()[0] > 0;
    }

    /**
     * Starts a forward-mode pass.
     *
     * @return the scope to close
     */
    public static AutoCloseable enter() {
        int[] depth = DEPTH.get();
        depth[0]++;
        return () -> depth[0]--;
    }

    /**
     * Whether any input carries a tangent in an active pass.
     *
     * @param inputs the inputs
     * @return true when the output needs a tangent
     */
    public static boolean any(Tensor... inputs) {
        if (!active()) {
            return false;
        }
        for (Tensor t : inputs) {
            if (t != null && TensorImpl.of(t).tangent() != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * The tangent of a tensor, or {@code null} for zero.
     *
     * @param t a tensor
     * @return its tangent
     */
    public static Tensor tangent(Tensor t) {
        return TensorImpl.of(t).tangent();
    }

    /**
     * Attaches a tangent to an output.
     *
     * @param out     the output
     * @param tangent its tangent ({@code null} for zero)
     * @return {@code out}
     */
    public static Tensor attach(Tensor out, Tensor tangent) {
        TensorImpl.of(out).setTangent(tangent == null ? null : primal(tangent));
        return out;
    }

    /**
     * The value of a tensor with neither tangent nor history, for use inside rules.
     *
     * @param t a tensor
     * @return a view of its storage
     */
    public static Tensor primal(Tensor t) {
        return t.detach();
    }
}
