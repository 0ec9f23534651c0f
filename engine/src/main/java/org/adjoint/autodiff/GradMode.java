package org.adjoint.autodiff;

/**
 * Whether operations are recorded for differentiation on the current thread.
 *
 * <p>Recording is on by default. Inside a {@link #noGrad()} scope no operation is recorded:
 * results have no history and do not require a gradient, which saves the memory of the
 * saved state (use it for evaluation and for optimiser updates).
 *
 * <pre>{@code
 * try (var _ = GradMode.noGrad()) {
 *     Tensor prediction = model.apply(x);   // nothing recorded
 * }
 * }</pre>
 *
 * <p>Threads. Grad mode is confined to a thread: a scope opened on one thread changes
 * nothing on another, and every thread starts with recording on. So is the tape: a graph is
 * recorded by the thread that runs the operations and reversed by the thread that calls
 * {@code backward()}, one thread at a time, with no locking. Two models trained on two
 * threads at once (each with its own parameters, optimizer and data) share nothing and end
 * bitwise where they end trained one after the other. What is not supported:
 * <ul>
 *   <li>using a graph from another thread while it is being reversed: the backward pass
 *       marks the nodes it will reverse, and a second backward pass or a new recorded
 *       operation that reaches them from another thread throws {@link IllegalStateException}
 *       naming both threads;</li>
 *   <li>sharing parameters between threads that train at the same time (gradients are
 *       accumulated into a leaf without synchronisation, and optimizers are not
 *       thread-safe): that is a data race and is not detected.</li>
 * </ul>
 * Handing tensors from one thread to another between passes is fine, with the usual
 * happens-before edge (an executor, a queue, {@code Thread.join}).
 */
public final class GradMode {

    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {
    }

    /**
     * Whether operations on this thread are recorded.
     *
     * @return true unless inside a no-grad scope
     */
    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /**
     * Turns recording off until the returned scope is closed; scopes nest.
     *
     * @return the scope to close (try-with-resources)
     */
    public static ModeScope noGrad() {
        return set(false);
    }

    /**
     * Turns recording on until the returned scope is closed (inside a no-grad scope, for a
     * computation that must be differentiated).
     *
     * @return the scope to close
     */
    public static ModeScope enableGrad() {
        return set(true);
    }

    private static ModeScope set(boolean enabled) {
        return ModeScope.set(ENABLED, enabled);
    }
}
