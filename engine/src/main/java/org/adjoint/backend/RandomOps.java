package org.adjoint.backend;

import org.adjoint.internal.HostArrays;

/**
 * Random draws made where a backend's buffers live. Draws are counter-based: element
 * {@code i} of a draw is a function of the draw's key and {@code i} alone ({@link #bits}), so
 * that a draw made again (a recomputation, a re-run on another thread) is the same bit for
 * bit, and every backend draws the same values. The default draws on the host and uploads; a
 * backend overrides it to draw in place (the CPU backend on its threads, CUDA in a kernel).
 */
public interface RandomOps extends BackendCore {

    /**
     * The 64 random bits a key gives at a counter: the SplitMix64 finaliser of
     * {@code key + (counter + 1)·γ}, γ = {@code 0x9E3779B97F4A7C15}.
     *
     * @param key     the draw's key
     * @param counter the element's index
     * @return the bits
     */
    static long bits(long key, long counter) {
        long z = key + (counter + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Element {@code counter} of an inverted-dropout mask: 0 when the top 24 of its
     * {@link #bits}, read as a float in {@code [0, 1)}, fall below {@code p}, else
     * {@code 1 / (1 − p)}.
     *
     * @param key     the draw's key
     * @param counter the element's index
     * @param p       the probability of dropping, in {@code [0, 1)}
     * @return 0 or the kept scale
     */
    static float dropoutMaskElement(long key, long counter, float p) {
        return (bits(key, counter) >>> 40) * 0x1.0p-24f < p ? 0f : 1f / (1f - p);
    }

    /**
     * A new buffer holding the inverted-dropout mask of {@code size} elements:
     * {@link #dropoutMaskElement}{@code (key, i, p)} at {@code i}. The default fills a host
     * array on the calling thread and uploads it.
     *
     * @param key  the draw's key
     * @param p    the probability of dropping, in {@code [0, 1)}
     * @param size element count
     * @return the mask, a buffer the caller owns
     * @throws OutOfMemoryException when no Java array or heap can hold the host array
     */
    default Buffer dropoutMask(long key, float p, long size) {
        float[] values = HostArrays.floats("dropout mask", size);
        for (int i = 0; i < values.length; i++) {
            values[i] = dropoutMaskElement(key, i, p);
        }
        return upload(values);
    }
}
