package org.adjoint.kernels;

/**
 * Counter-based random draws: element {@code i} of a draw is a function of the draw's key and
 * {@code i} alone, so a draw split across threads (or made again) is the same bit for bit.
 * The hash is the engine's ({@code RandomOps.bits}, which this module cannot import: kernels
 * depend on nothing of ours) and the CUDA kernel source's {@code dropout_mask}; the three are
 * tested against each other.
 */
public final class RandomDraws {

    /** Elements below which a draw stays on the calling thread. */
    static final int MIN_PARALLEL = 1 << 15;

    private RandomDraws() {
    }

    /**
     * The 64 bits a key gives at a counter: the SplitMix64 finaliser of
     * {@code key + (counter + 1)·0x9E3779B97F4A7C15}.
     *
     * @param key     the draw's key
     * @param counter the element's index
     * @return the bits
     */
    public static long bits(long key, long counter) {
        long z = key + (counter + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * An inverted-dropout mask: {@code out[i]} is 0 when the top 24 bits of
     * {@link #bits}{@code (key, i)}, read as a float in {@code [0, 1)}, fall below {@code p}, and
     * {@code 1 / (1 − p)} otherwise; split across the kernel threads.
     *
     * @param key the draw's key
     * @param p   the probability of dropping, in {@code [0, 1)}
     * @param out the mask, {@code n} elements written
     * @param n   element count
     */
    public static void dropoutMask(long key, float p, float[] out, int n) {
        if (n > out.length) {
            throw new IllegalArgumentException("dropout mask: " + n + " elements into an array of " + out.length);
        }
        float keep = 1f / (1f - p);
        Parallel.ranges(n, MIN_PARALLEL, (from, to) -> {
            for (int i = from; i < to; i++) {
                out[i] = (bits(key, i) >>> 40) * 0x1.0p-24f < p ? 0f : keep;
            }
        });
    }
}
