package org.adjoint.backend;

/**
 * An allocation that cannot be satisfied: a tensor's buffer, a host array that a tensor is
 * made from or copied into ({@code Tensor.randn}, {@code toFloatArray()}), or an array a
 * reader fills. It names the operation, the bytes asked, and the Java heap in use and its
 * maximum ({@code -Xmx}) when it failed, instead of a bare {@link OutOfMemoryError}.
 *
 * <p>Nothing is half done when it is thrown: the allocation either did not happen or is
 * garbage, so the tensors, modules and optimizers that existed before are as they were, and a
 * caller may free memory (or lower the batch size, or give the JVM more heap) and try again.
 * Backends may throw a subclass with more detail, such as the CPU backend's
 * {@code CpuOutOfMemoryException}.
 */
public class OutOfMemoryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String operation;
    private final long requestedBytes;
    private final long heapUsedBytes;
    private final long heapMaxBytes;

    /**
     * Creates the exception.
     *
     * @param message        what failed, with the figures below in words
     * @param operation      what asked for the memory, such as {@code Tensor.randn} or {@code cpu backend}
     * @param requestedBytes the size of the allocation that failed
     * @param heapUsedBytes  heap in use when it failed, garbage not yet collected included
     * @param heapMaxBytes   the most heap the JVM may use
     * @param cause          the {@link OutOfMemoryError} it replaces, or {@code null} when a size check
     *                       refused the allocation before it was tried
     */
    public OutOfMemoryException(String message, String operation, long requestedBytes, long heapUsedBytes,
                                long heapMaxBytes, Throwable cause) {
        super(message, cause);
        this.operation = operation;
        this.requestedBytes = requestedBytes;
        this.heapUsedBytes = heapUsedBytes;
        this.heapMaxBytes = heapMaxBytes;
    }

    /**
     * What asked for the memory.
     *
     * @return for example {@code Tensor.randn}, {@code toFloatArray} or {@code cpu backend}
     */
    public String operation() {
        return operation;
    }

    /**
     * The size of the allocation that failed.
     *
     * @return bytes
     */
    public long requestedBytes() {
        return requestedBytes;
    }

    /**
     * Heap in use when the allocation failed, garbage not yet collected included.
     *
     * @return bytes
     */
    public long heapUsedBytes() {
        return heapUsedBytes;
    }

    /**
     * The most heap the JVM may use ({@code -Xmx}).
     *
     * @return bytes
     */
    public long heapMaxBytes() {
        return heapMaxBytes;
    }
}
