package org.adjoint.cpu;

import org.adjoint.backend.OutOfMemoryException;

/**
 * A buffer the CPU backend cannot allocate: larger than a Java array can be (2^31 − 9
 * floats), larger than the heap's maximum, or not available on the heap even after the
 * backend's {@link BufferPool} released what it cached. It reports the request and the memory
 * in use when it failed, and what the pool cached; its {@link #operation()} is
 * {@code cpu backend}.
 *
 * <p>Nothing is half done when it is thrown: the buffer was never created, so a forward pass
 * or an optimizer step that fails with it leaves every parameter as it was, and a caller may
 * free memory (or lower the batch size) and try again.
 */
public final class CpuOutOfMemoryException extends OutOfMemoryException {

    private static final long serialVersionUID = 1L;

    private final long pooledBytes;

    CpuOutOfMemoryException(String message, long requestedBytes, long heapUsedBytes, long heapMaxBytes,
                            long pooledBytes, Throwable cause) {
        super(message, "cpu backend", requestedBytes, heapUsedBytes, heapMaxBytes, cause);
        this.pooledBytes = pooledBytes;
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
