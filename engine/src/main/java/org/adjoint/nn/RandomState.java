package org.adjoint.nn;

import org.adjoint.backend.RandomOps;

/**
 * Where random operations ({@link Dropout}) take their keys, one stream per thread, as the
 * tape is one per thread. Each application of a random operation takes one key, and every
 * number it uses is a hash of that key and the element's index (counter-based, as JAX's and
 * Philox's are): the key is one of the attributes of the recorded node, so re-running the
 * node, or recomputing what it saved, draws the same numbers without this stream. The
 * stream's whole state is one {@code long} (SplitMix64), so a checkpointed chain that runs a
 * layer again from scratch notes the state before the layer and sets it back: the layer then
 * takes the same keys.
 */
public final class RandomState {

    private static final long GAMMA = 0x9E3779B97F4A7C15L;
    private static final ThreadLocal<long[]> STATE = ThreadLocal.withInitial(() -> new long[] {0x5DEECE66DL});

    private RandomState() {
    }

    /**
     * The current state of this thread's stream.
     *
     * @return the state
     */
    public static long get() {
        return STATE.get()[0];
    }

    /**
     * Sets this thread's stream (to seed it, or to replay from a noted state).
     *
     * @param state the state
     */
    public static void set(long state) {
        STATE.get()[0] = state;
    }

    /**
     * The key the next random operation takes, without taking it: a random operation peeks,
     * runs, and {@link #advance() advances} once it succeeded, so that a failure (no memory
     * for the mask) leaves the stream as it was.
     *
     * @return the key
     */
    public static long peekKey() {
        return RandomOps.bits(STATE.get()[0], 0);
    }

    /** Moves past the key {@link #peekKey()} gives. */
    public static void advance() {
        STATE.get()[0] += GAMMA;
    }
}
