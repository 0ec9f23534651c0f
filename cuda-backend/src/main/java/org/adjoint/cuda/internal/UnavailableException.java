package org.adjoint.cuda.internal;

/** Why the CUDA backend cannot run here; its message becomes the backend's unavailability reason. */
public final class UnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param reason the whole reason, one sentence
     */
    public UnavailableException(String reason) {
        super(reason, null, false, false);
    }

    /**
     * Creates the exception from the failure behind it, kept as the cause (with its stack
     * trace) for whoever debugs the reason.
     *
     * @param reason the whole reason, one sentence
     * @param cause  what failed
     */
    public UnavailableException(String reason, Throwable cause) {
        super(reason, cause, false, false);
    }
}
