package org.adjoint.nn;

/**
 * The random stream that stochastic layers ({@link Dropout}) draw from, one per thread. Its
 * whole state is one {@code long}, so a checkpointed chain can note it before a layer runs
 * and set it back before running that layer again: a recomputed layer draws exactly the same
 * numbers as the first time. The generator is SplitMix64.
 */
public final class RandomState {

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
     * The next uniform number in {@code [0, 1)}.
     *
     * @return the number, with 24 random bits
     */
    public static float nextFloat() {
        long[] state = STATE.get();
        long z = state[0] += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 40) * 0x1.0p-24f;
    }
}
