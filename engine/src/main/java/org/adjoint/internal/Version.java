package org.adjoint.internal;

/**
 * Counts in-place modifications of one buffer. Tensors that share a buffer (reshapes,
 * detached copies) share its version, so a derivative rule can tell that a tensor it saved
 * was changed afterwards (by an optimizer step) and refuse to use it.
 */
public final class Version {

    private int value;

    /** A counter at 0, for new storage. */
    public Version() {
    }

    /**
     * A counter that starts at {@code start}, for a tensor given storage of its own that
     * other references already compared against.
     *
     * @param start the first value
     */
    public Version(int start) {
        value = start;
    }

    /**
     * The number of in-place modifications so far.
     *
     * @return the count
     */
    public int get() {
        return value;
    }

    /** Records one more in-place modification. */
    public void increment() {
        value++;
    }
}
