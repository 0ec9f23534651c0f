package org.adjoint.autodiff;

/**
 * A thread's mode switched for a block of code, as {@link GradMode#noGrad()} and
 * {@link Anomaly#detect()} return it: closing it restores the mode that was active when it
 * was opened, so scopes nest. Use it with try-with-resources; closing twice does nothing.
 */
public final class ModeScope implements AutoCloseable {

    private final boolean[] flag;
    private final boolean previous;
    private boolean closed;

    private ModeScope(boolean[] flag, boolean previous) {
        this.flag = flag;
        this.previous = previous;
    }

    /** Sets this thread's flag and returns the scope that restores it. */
    static ModeScope set(ThreadLocal<boolean[]> mode, boolean value) {
        boolean[] flag = mode.get();
        boolean previous = flag[0];
        flag[0] = value;
        return new ModeScope(flag, previous);
    }

    /** Restores the mode that was active when this scope was opened. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            flag[0] = previous;
        }
    }
}
