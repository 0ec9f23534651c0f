package org.adjoint.internal;

/**
 * Whether the current thread is re-running layers for a checkpointed backward pass. A layer
 * with a side effect beyond its output (batch normalisation updates its running statistics)
 * performs it on the first run only: the re-run must compute the same values, not count the
 * batch twice. On that first run it also tells {@link SideEffects} how to take the change
 * back, for a checkpointed chain that refuses its plan after the layer ran. Confined to a
 * thread, as grad mode is; scopes nest.
 *
 * <pre>{@code
 * try (var _ = Recomputation.enter()) {
 *     layer.apply(leaf);   // Recomputation.active() is true in here
 * }
 * }</pre>
 */
public final class Recomputation {

    private static final ThreadLocal<boolean[]> ACTIVE = ThreadLocal.withInitial(() -> new boolean[1]);

    private Recomputation() {
    }

    /**
     * Whether this thread is inside a re-run.
     *
     * @return {@code true} between {@link #enter()} and the matching {@link Scope#close()}
     */
    public static boolean active() {
        return ACTIVE.get()[0];
    }

    /**
     * Marks this thread as re-running until the returned scope closes.
     *
     * @return the scope that restores the previous state
     */
    public static Scope enter() {
        boolean[] flag = ACTIVE.get();
        boolean previous = flag[0];
        flag[0] = true;
        return new Scope(flag, previous);
    }

    /** A re-run in progress; closing it restores the state it found (closing twice does nothing). */
    public static final class Scope implements AutoCloseable {

        private final boolean[] flag;
        private final boolean previous;
        private boolean closed;

        private Scope(boolean[] flag, boolean previous) {
            this.flag = flag;
            this.previous = previous;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                flag[0] = previous;
            }
        }
    }
}
