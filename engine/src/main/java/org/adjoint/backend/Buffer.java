package org.adjoint.backend;

/**
 * Storage of float32 elements owned by one {@link Backend}. Backends define their own
 * implementations and accept only their own buffers.
 */
public interface Buffer {

    /**
     * Number of float elements.
     *
     * @return the element count
     */
    long size();
}
