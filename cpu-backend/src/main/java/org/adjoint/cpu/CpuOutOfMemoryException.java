package org.adjoint.cpu;

/**
 * A buffer the CPU backend cannot allocate: larger than a Java array can be (2^31 − 9
 * floats), larger than the heap's maximum, or not available on the heap even after the
 * backend's {@link BufferPool} released what it cached. It reports the request and the memory
 * in use when it failed.
 *
 * <p>Nothing is half done when it is thrown: the buffer was never created, so a forward pass
 * or an optimizer step that fails with it leaves every parameter as it was, and a caller may
 * free memory (or lower the batch size) and try again.
 */
public final class CpuOutOfMemoryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long requestedBytes;
    private final long heapUsedBytes;
    private final long heapMaxBytes;
    private final long pooledBytes;

    CpuOutOfMemoryException(String message, long requestedBytes, long heapUsedBytes, long heapMaxBytes,
                            long pooledBytes, Throwable cause) {
        super(message, cause);
        this.requestedBytes = requestedBytes;
        this.heapUsedBytes = heapUsedBytes;
        this.heapMaxBytes = heapMaxBytes;
        this.pooledBytes = pooledBytes;
    }

    /**
     * The size of the buffer asked for.
     *
     * @return four bytes per element
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

    /**
     * What the backend's pool cached for reuse when the allocation failed; a failure after the
     * pool was released and the allocation retried reports what the pool held before.
     *
     * @return bytes
     */
    public long pooledBytes() {
        return pooledBytes;
    }
}
