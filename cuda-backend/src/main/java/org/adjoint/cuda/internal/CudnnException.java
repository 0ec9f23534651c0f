package org.adjoint.cuda.internal;

/**
 * A cuDNN call that returned a status other than {@code CUDNN_STATUS_SUCCESS}, or whose
 * downcall failed: the convolution path catches it (and only it) to take the im2col path for
 * that call, so that a failure of anything else (the driver, the allocator) is never mistaken
 * for one of cuDNN's.
 */
public final class CudnnException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /** The C function. */
    private final String call;
    /** Its {@code cudnnStatus_t}, or -1 when the downcall itself failed. */
    private final int status;

    /**
     * Creates the exception.
     *
     * @param call    the C function, for example {@code cudnnConvolutionForward}
     * @param status  the status it returned, or -1 when the downcall failed
     * @param message the whole message, naming the call and the status
     * @param cause   the downcall's failure, or {@code null}
     */
    CudnnException(String call, int status, String message, Throwable cause) {
        super(message, cause);
        this.call = call;
        this.status = status;
    }

    /**
     * The C function that failed.
     *
     * @return for example {@code cudnnConvolutionBackwardFilter}
     */
    public String call() {
        return call;
    }

    /**
     * The status it returned.
     *
     * @return a {@code cudnnStatus_t}, or -1 when the downcall itself failed
     */
    public int status() {
        return status;
    }
}
