package org.adjoint.backend;

import org.adjoint.DType;

/**
 * Storage owned by one {@link Backend}. Backends define their own implementations and accept
 * only their own buffers.
 */
public interface Buffer {

    /**
     * Number of elements.
     *
     * @return the element count
     */
    long size();

    /**
     * The element type.
     *
     * @return {@link DType#F32} unless the backend allocated another type
     */
    default DType dtype() {
        return DType.F32;
    }
}
