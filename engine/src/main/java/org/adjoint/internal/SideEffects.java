package org.adjoint.internal;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.Tensor;

/**
 * Side effects that a refused forward pass takes back. A checkpointed chain runs layers
 * before it knows whether its plan holds (a byte budget is checked against what the first
 * layer's tape saves, then against what every later one saves); when it refuses, the model
 * must be as it was before the call. A layer whose forward pass changes state beyond its
 * output (batch normalisation's running statistics and batch count) registers, just before
 * the change, how to restore what it overwrites ({@link #onUndo}). Only while a {@link Log}
 * is open on the thread is anything kept; elsewhere the registration is a no-op, so a plain
 * forward pass pays nothing. Confined to a thread, as grad mode is; logs nest, and a nested
 * log that commits hands its entries to the one around it.
 *
 * <pre>{@code
 * try (SideEffects.Log log = SideEffects.begin()) {
 *     ... run layers, which may throw ...
 *     log.commit();          // keep their side effects
 * }                          // without commit: undone, newest first
 * }</pre>
 */
public final class SideEffects {

    private static final ThreadLocal<Log> OPEN = new ThreadLocal<>();

    private SideEffects() {
    }

    /**
     * Opens a log on this thread until it commits or closes.
     *
     * @return the log
     */
    public static Log begin() {
        Log log = new Log(OPEN.get());
        OPEN.set(log);
        return log;
    }

    /**
     * Whether a log is open on this thread: a layer about to change state takes its
     * {@link #snapshot} only then.
     *
     * @return {@code true} inside {@link #begin()}'s scope
     */
    public static boolean logging() {
        return OPEN.get() != null;
    }

    /**
     * Registers how to restore state that is about to change; nothing happens outside a log.
     *
     * @param undo restores the state; it must not allocate tracked buffers or fail for want of memory
     */
    public static void onUndo(Runnable undo) {
        Log log = OPEN.get();
        if (log != null) {
            log.undos.add(undo);
        }
    }

    /**
     * A contiguous copy of {@code state} that no {@link Compute#track tracking} scope records,
     * so that a checkpointed chain handing back a layer's temporaries does not recycle it.
     *
     * @param state the values an undo will write back
     * @return the copy
     */
    public static Tensor snapshot(Tensor state) {
        List<Compute.Allocation> outer = Compute.track(null);
        try {
            return Compute.copy(state);
        } finally {
            Compute.track(outer);
        }
    }

    /** The undos registered since {@link #begin()}: committed, or run newest first on close. */
    public static final class Log implements AutoCloseable {

        private final Log outer;
        private final List<Runnable> undos = new ArrayList<>();
        private boolean closed;

        private Log(Log outer) {
            this.outer = outer;
        }

        /** Keeps the side effects: the undos go to the enclosing log, if any, else are dropped. */
        public void commit() {
            if (closed) {
                return;
            }
            end();
            if (outer != null) {
                outer.undos.addAll(undos);
            }
            undos.clear();
        }

        /**
         * Without a {@link #commit()} before it, runs every undo, newest first; every undo
         * runs even when one fails, and the first failure is thrown with the later ones
         * suppressed. Closing twice does nothing.
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            end();
            Throwable first = null;
            for (int i = undos.size() - 1; i >= 0; i--) {
                try {
                    undos.get(i).run();
                } catch (RuntimeException | Error e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            undos.clear();
            if (first instanceof RuntimeException e) {
                throw e;
            }
            if (first != null) {
                throw (Error) first;
            }
        }

        private void end() {
            if (OPEN.get() != this) {
                // Nothing changed: the innermost log can still close, and this one after it.
                throw new IllegalStateException("SideEffects: logs must close innermost first");
            }
            closed = true;
            if (outer == null) {
                OPEN.remove();
            } else {
                OPEN.set(outer);
            }
        }
    }
}
