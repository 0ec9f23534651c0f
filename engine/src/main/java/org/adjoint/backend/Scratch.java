package org.adjoint.backend;

/** Small helpers of the composed operations' default bodies. */
final class Scratch {

    private Scratch() {
    }

    /** A one-element buffer holding {@code value}, to broadcast with stride 0; the caller releases it. */
    static Buffer scalar(BackendCore backend, float value) {
        Buffer buffer = backend.allocate(1);
        backend.fill(buffer, value);
        return buffer;
    }

    /** The element count of a buffer as the {@code int} that strided shapes take. */
    static int count(String operation, Buffer buffer) {
        long size = buffer.size();
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(operation + ": " + size + " elements are more than one strided pass "
                    + "addresses (" + Integer.MAX_VALUE + ")");
        }
        return (int) size;
    }
}
