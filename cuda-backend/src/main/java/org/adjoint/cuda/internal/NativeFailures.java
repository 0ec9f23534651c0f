package org.adjoint.cuda.internal;

/**
 * Runs native destroy calls one after another, keeping the first failure and suppressing the
 * rest into it, so that one failing call does not leave the others undone.
 */
final class NativeFailures {
    private RuntimeException first;

    /**
     * Runs one call, keeping its failure.
     *
     * @param destroy the call
     */
    void run(Runnable destroy) {
        try {
            destroy.run();
        } catch (RuntimeException e) {
            if (first == null) {
                first = e;
            } else {
                first.addSuppressed(e);
            }
        }
    }

    /** Throws the first failure kept, with the later ones suppressed into it; nothing when none failed. */
    void throwFirst() {
        if (first != null) {
            throw first;
        }
    }

    /**
     * Adds the failures kept to {@code cause} as suppressed ones.
     *
     * @param cause the failure that made the calls run
     */
    void suppressInto(Throwable cause) {
        if (first != null) {
            cause.addSuppressed(first);
        }
    }
}
